import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createModelPredictor,
  PredictMissingError,
} from '../../src/training/predict/model-predictor.ts';
import { batches, PredictPool, type PredictPoolOptions } from '../../src/training/predict/pool.ts';
import { repoRoot } from '../support/databases.ts';
import { processGone } from '../support/processes.ts';

const FAKE = `node ${repoRoot}/test/training/fake-model.mjs`;
const LABELS = ['erlass', 'handreichung', 'verordnung'];

let dir: string;
let pools: PredictPool[] = [];
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'predict-pool-test-'));
});
afterEach(async () => {
  await Promise.all(pools.map((p) => p.close()));
  pools = [];
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let logs = 0;
/** A fake model (test/training/fake-model.mjs) and the file it logs its life to. */
function fakeModel(id: string, behaviour: Record<string, unknown> = {}) {
  const log = path.join(dir, `${id}-${logs++}.log`);
  const artifact = new TextEncoder().encode(JSON.stringify({ labels: LABELS, log, ...behaviour }));
  const lines = async () => (await readFile(log, 'utf8').catch(() => '')).trim().split('\n');
  const pids = async (event: string) =>
    (await lines()).filter((l) => l.startsWith(`${event} `)).map((l) => Number(l.split(' ')[1]));
  return { model: { id, artifact }, lines, pids };
}

function pool(options: Partial<PredictPoolOptions> = {}) {
  const created = new PredictPool({
    command: FAKE,
    maxProcesses: 4,
    idleMs: 60_000,
    timeoutMs: 5_000,
    startTimeoutMs: 10_000,
    logger: pino({ level: 'silent' }),
    ...options,
  });
  pools.push(created);
  return created;
}

describe('the predict pool', () => {
  it('starts a model process on first use, waits for its ready line and keeps it warm', async () => {
    const records: Record<string, unknown>[] = [];
    const logger = pino(
      { level: 'info' },
      { write: (line: string) => records.push(JSON.parse(line)) },
    );
    const p = pool({ logger });
    const fake = fakeModel('v1');
    const [first] = await p.predict(fake.model, ['Die Schülerinnen und Schüler …']);
    expect(first).toEqual({
      label: 'erlass',
      probabilities: [
        { label: 'erlass', probability: 0.7 },
        { label: 'handreichung', probability: expect.closeTo(0.15, 10) },
        { label: 'verordnung', probability: expect.closeTo(0.15, 10) },
      ],
    });
    expect(await p.predict(fake.model, ['a', 'b'])).toHaveLength(2);
    const [pid] = await fake.pids('start');
    expect(await fake.pids('start')).toHaveLength(1);
    expect(p.liveModels()).toEqual(['v1']);
    // Its structured stderr line, in the server's log at its level with its fields.
    expect(records).toContainEqual(
      expect.objectContaining({
        level: 30,
        msg: 'fake model loaded',
        fields: { pid },
        modelVersionId: 'v1',
      }),
    );
  });

  it('splits a batch into requests of at most 64 texts and 1 MiB', async () => {
    const p = pool();
    const fake = fakeModel('batches');
    const texts = Array.from({ length: 130 }, (_, i) => `text ${i}`);
    expect(await p.predict(fake.model, texts)).toHaveLength(130);
    const sizes = (await fake.lines())
      .filter((l) => l.startsWith('request '))
      .map((l) => l.split(' ')[2]);
    expect(sizes).toEqual(['64', '64', '2']);

    const large = 'x'.repeat(400 * 1024);
    expect(batches([large, large, large, 'y']).map((b) => b.length)).toEqual([2, 2]);
    expect(() => batches(['x'.repeat(1024 * 1024)])).toThrow(/does not fit into a predict request/);
  });

  it('fails a request that times out and kills its process; the next request starts a new one', async () => {
    const p = pool({ timeoutMs: 300 });
    const fake = fakeModel('slow', { hangOn: 'slow' });
    await expect(p.predict(fake.model, ['slow'])).rejects.toThrow(/no answer within 300 ms/);
    const [pid] = await fake.pids('start');
    await processGone(pid as number);
    // After the backoff (1 s) the model is started again.
    await vi.waitFor(() => p.predict(fake.model, ['fast']), { timeout: 5_000, interval: 200 });
    expect(await fake.pids('start')).toHaveLength(2);
  });

  it('restarts a crashed process with backoff, failing requests at once meanwhile', async () => {
    const p = pool();
    const fake = fakeModel('crash', { crashOn: 'boom' });
    const crash = await p.predict(fake.model, ['boom']).catch((e: Error) => e);
    expect(crash).toBeInstanceOf(Error);
    expect((crash as Error).message).toMatch(
      /exited with code 3: .*fake model: crashing as asked/s,
    );
    // Within the backoff: the same error, and no new process.
    await expect(p.predict(fake.model, ['fine'])).rejects.toThrow((crash as Error).message);
    expect(await fake.pids('start')).toHaveLength(1);
    // The pool keeps the failure's backoff, not the model and its artifact.
    expect(p.heldModels()).toEqual([]);
    const answered = await vi.waitFor(() => p.predict(fake.model, ['fine']), {
      timeout: 5_000,
      interval: 200,
    });
    expect(answered[0]?.label).toBe('erlass');
    expect(await fake.pids('start')).toHaveLength(2);
  });

  it('fails an error answer alone and kills a process that breaks the protocol', async () => {
    const p = pool();
    const fake = fakeModel('answers', { errorOn: 'unreadable', badOn: 'bad' });
    await expect(p.predict(fake.model, ['unreadable'])).rejects.toThrow(/cannot read this text/);
    await p.predict(fake.model, ['fine']);
    expect(await fake.pids('start')).toHaveLength(1);
    await expect(p.predict(fake.model, ['bad'])).rejects.toThrow(/0 predictions for 1 texts/);
    const [pid] = await fake.pids('start');
    await processGone(pid as number);
  });

  it('kills a model that does not get ready within the start timeout', async () => {
    const p = pool({ startTimeoutMs: 300 });
    const fake = fakeModel('never-ready', { noReady: true });
    await expect(p.predict(fake.model, ['x'])).rejects.toThrow(
      /could not start: did not write its ready line within 300 ms/,
    );
    const [pid] = await fake.pids('start');
    await processGone(pid as number);
    expect(p.size).toBe(0);
    expect(p.heldModels()).toEqual([]);
  });

  it('stops a process unused for the idle time by closing its stdin', async () => {
    const p = pool({ idleMs: 200 });
    const fake = fakeModel('idle');
    await p.predict(fake.model, ['x']);
    const [pid] = await fake.pids('start');
    await vi.waitFor(() => expect(p.size).toBe(0), { timeout: 5_000, interval: 50 });
    await processGone(pid as number);
    expect(await fake.pids('eof')).toEqual([pid]);
  });

  it('keeps at most PREDICT_MAX_PROCESSES alive, stopping the least recently used', async () => {
    const p = pool({ maxProcesses: 2 });
    const a = fakeModel('a');
    const b = fakeModel('b');
    const c = fakeModel('c');
    await p.predict(a.model, ['x']);
    await p.predict(b.model, ['x']);
    await p.predict(a.model, ['x']);
    await p.predict(c.model, ['x']);
    expect(p.liveModels()).toEqual(['a', 'c']);
    const [pidB] = await b.pids('start');
    await processGone(pidB as number);
    expect(await b.pids('eof')).toEqual([pidB]);
  });

  it('makes a busy pool wait for a slot rather than stop a process with a request in flight', async () => {
    const p = pool({ maxProcesses: 1 });
    const a = fakeModel('busy', { delayOn: 'slow' });
    const b = fakeModel('waiting');
    await p.predict(a.model, ['x']);
    const slow = p.predict(a.model, ['slow']);
    // b waits until a has answered, then a's idle process makes room.
    const [answer] = await p.predict(b.model, ['x']);
    expect(answer?.label).toBe('erlass');
    expect(await slow).toHaveLength(1);
    expect(await a.lines()).toEqual([
      expect.stringMatching(/^start /),
      expect.stringMatching(/^request \d+ 1$/),
      expect.stringMatching(/^request \d+ 1$/),
      expect.stringMatching(/^eof /),
    ]);
  });
});

describe('a model nothing can run', () => {
  const notBuiltin = { id: 'v', artifact: new TextEncoder().encode('{}') };
  const config = { maxProcesses: 1, idleMs: 1000, timeoutMs: 1000, startTimeoutMs: 1000 };

  it('without PREDICT_COMMAND and TRAINER_COMMAND', async () => {
    const predictor = createModelPredictor({ ...config, command: undefined });
    await expect(predictor.predict(notBuiltin, ['x'])).rejects.toThrow(PredictMissingError);
  });

  it('when the trainer command says it has no predict mode', async () => {
    const answer = JSON.stringify({ type: 'describe', version: 1, defaults: {}, predict: false });
    const predictor = createModelPredictor(
      { ...config, command: undefined },
      { trainerCommand: `echo '${answer}'`, logger: pino({ level: 'silent' }) },
    );
    await expect(predictor.predict(notBuiltin, ['x'])).rejects.toThrow(/"predict": false/);
  });
});
