import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TrainerConfig, TrainerEvent } from '../../src/training/trainers/builtin/types.ts';
import {
  type CommandTrainerOptions,
  type CommandTrainerSession,
  startCommandSession,
} from '../../src/training/trainers/command/command-trainer.ts';
import type { TrainerInput } from '../../src/training/trainers/port.ts';
import { groupGone } from '../support/processes.ts';
import { comparable, digest, doneOf, only } from '../trainer/helpers.ts';
import { syntheticCorpus } from '../trainer/synthetic-corpus.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TRAIN = 'node examples/trainer-command/train.mjs';

// 170 optimizer steps per epoch, 3400 in all: a pause after a few steps lands long before the end,
// since stdout is read no faster than consumed and the trainer waits on a full pipe.
const examples = syntheticCorpus({ size: 800, seed: 3 });
const config: TrainerConfig = {
  batchSize: 4,
  learningRate: 0.5,
  epochs: 20,
  warmupSteps: 10,
  weightDecay: 0.01,
  gradientAccumulation: 1,
  mixedPrecision: false,
  seed: 1,
};
const input: TrainerInput = { jobId: 'job-1', examples, config };

let tempRoot: string;
let scripts: string;
let reference: TrainerEvent[];

const start = (
  command: string,
  overrides: Partial<TrainerInput> = {},
  options: Partial<CommandTrainerOptions> = {},
) => startCommandSession({ command, tempRoot, cwd: ROOT, ...options }, { ...input, ...overrides });

async function collect(
  session: CommandTrainerSession,
  onEvent?: (event: TrainerEvent) => void | Promise<void>,
): Promise<TrainerEvent[]> {
  const events: TrainerEvent[] = [];
  for await (const event of session) {
    events.push(event);
    await onEvent?.(event);
  }
  return events;
}

beforeAll(async () => {
  tempRoot = await mkdtemp(path.join(tmpdir(), 'command-trainer-test-'));
  scripts = await mkdtemp(path.join(tmpdir(), 'command-trainer-scripts-'));
  reference = await collect(start(TRAIN));
});

afterAll(async () => {
  await rm(tempRoot, { recursive: true, force: true });
  await rm(scripts, { recursive: true, force: true });
});

// Every session removes its temporary directory, however it ended.
afterEach(async () => {
  expect(await readdir(tempRoot)).toEqual([]);
});

describe('command trainer', () => {
  it('runs the example trainer to the end: prepared, steps, evals, done with its model', () => {
    const [prepared] = only(reference, 'prepared');
    expect(reference[0]).toBe(prepared);
    expect(prepared).toMatchObject({
      type: 'prepared',
      totalSteps: 3400,
      stepsPerEpoch: 170,
      trainSize: 680,
      validationSize: 120,
      labels: ['erlass', 'handreichung', 'schulordnung', 'verordnung'],
      precision: 'fp32',
      resumedFromStep: 0,
    });
    const steps = only(reference, 'step');
    expect(steps.map((s) => s.step)).toEqual(Array.from({ length: 3400 }, (_, i) => i + 1));
    const evals = only(reference, 'eval');
    expect(evals.map((e) => e.epoch)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(evals.map((e) => e.final)).toEqual([...Array(19).fill(false), true]);

    // A real model: it learns the synthetic corpus (four labels, 15% label noise).
    const meanLoss = (epoch: number) => {
      const losses = steps.filter((s) => s.epoch === epoch).map((s) => s.loss);
      return losses.reduce((a, b) => a + b, 0) / losses.length;
    };
    expect(meanLoss(20)).toBeLessThan(meanLoss(1) * 0.8);
    const last = evals.at(-1)!;
    expect(last.accuracy).toBeGreaterThan(0.6);

    const done = doneOf(reference);
    expect(reference.at(-1)).toBe(done);
    const { valLoss, precision, recall, f1, accuracy } = last;
    expect(done.metrics).toEqual({ valLoss, precision, recall, f1, accuracy });
    const model = JSON.parse(Buffer.from(done.artifact).toString('utf8'));
    expect(model).toMatchObject({ format: 'example-trainer-model/1', labels: prepared!.labels });
  });

  it('pauses with a checkpoint and resumes from it in a new session to the same model', async () => {
    const first = start(TRAIN);
    const before = await collect(first, (e) => {
      if (e.type === 'step' && e.step === 5) first.pause();
    });
    await groupGone(first.pid);
    const checkpoint = before.at(-1);
    if (checkpoint?.type !== 'checkpoint') throw new Error(`ended with ${checkpoint?.type}`);
    expect(only(before, 'checkpoint')).toHaveLength(1);
    expect(checkpoint.step).toBeGreaterThanOrEqual(5);
    expect(checkpoint.step).toBeLessThan(3400);

    const after = await collect(start(TRAIN, { checkpoint: checkpoint.state }));
    expect(after[0]).toMatchObject({ type: 'prepared', resumedFromStep: checkpoint.step });
    const combined = [...before.slice(1, -1), ...after.slice(1)];
    expect(comparable(combined)).toEqual(comparable(reference.slice(1)));
    expect(digest(doneOf(after).artifact)).toBe(digest(doneOf(reference).artifact));
  });

  it('sends a checkpoint on request and trains on unchanged', async () => {
    const session = start(TRAIN);
    const events = await collect(session, (e) => {
      if (e.type === 'step' && e.step === 3) session.requestCheckpoint();
    });
    const [checkpoint] = only(events, 'checkpoint');
    expect(only(events, 'checkpoint')).toHaveLength(1);
    expect(checkpoint!.step).toBeGreaterThanOrEqual(3);
    const state = JSON.parse(Buffer.from(checkpoint!.state).toString('utf8'));
    expect(state).toMatchObject({ format: 'example-trainer-checkpoint/1', step: checkpoint!.step });
    expect(comparable(events.filter((e) => e.type !== 'checkpoint'))).toEqual(
      comparable(reference),
    );
  });

  it('holds a pause asked for before the trainer is ready until it is', async () => {
    const session = start(TRAIN);
    session.pause();
    const events = await collect(session);
    expect(events[0]?.type).toBe('prepared');
    expect(events.at(-1)?.type).toBe('checkpoint');
    expect(only(events, 'done')).toHaveLength(0);
  });

  it('reports a failing trainer with the tail of its stderr', async () => {
    await expect(collect(start(TRAIN, { config: { ...config, batchSize: 0 } }))).rejects.toThrow(
      'trainer command exited with code 2: train.mjs: config.batchSize must be an integer >= 1, got 0',
    );

    const noisy = `i=0; while [ $i -lt 2000 ]; do echo "noise $i" >&2; i=$((i+1)); done; echo "the reason" >&2; exit 3`;
    const error = await collect(start(noisy)).catch((e: Error) => e);
    if (!(error instanceof Error)) throw new Error('expected an error');
    expect(error.message).toMatch(
      /^trainer command exited with code 3: .*noise 1999\nthe reason$/s,
    );
    expect(error.message).not.toContain('noise 0\n');
    expect(error.message.length).toBeLessThan(4200);
  });

  it.each([
    ['hello', /invalid line 1 "hello": not JSON/],
    ['{"type":"prepared","totalSteps":1}', /invalid line 1 .*stepsPerEpoch: Invalid input/],
    [
      '{"type":"shutdown"}',
      /invalid line 1 "\{\\"type\\":\\"shutdown\\"\}": type: Invalid discriminator value/,
    ],
    [
      '{"type":"step","step":1,"epoch":1,"loss":1,"learningRate":0,"examplesSeen":1}',
      /line 1: "step" before "prepared"/,
    ],
  ])('fails clearly on the line %s', async (line, message) => {
    const command = `echo '${line}'; sleep 60`;
    const session = start(command);
    await expect(collect(session)).rejects.toThrow(message);
    await groupGone(session.pid);
  });

  it('names a malformed line after good ones by its number', async () => {
    const prepared = JSON.stringify(reference[0]);
    const command = `echo '${prepared}'; echo; echo '{"type":"step","step":1}'`;
    await expect(collect(start(command))).rejects.toThrow(
      /invalid line 3 .*epoch: Invalid input: expected number, received undefined/,
    );
  });

  it('fails a trainer that exits without an artifact', async () => {
    const command = `echo '${JSON.stringify(reference[0])}'; echo 'saved nothing' >&2`;
    await expect(collect(start(command))).rejects.toThrow(
      'trainer command exited with code 0 without an artifact: saved nothing',
    );
  });

  it('cancel() kills the trainer at once, without a checkpoint or result', async () => {
    const session = start(TRAIN);
    const events = await collect(session, async (e) => {
      if (e.type === 'step' && e.step === 3) await session.cancel();
    });
    expect(events.at(-1)).toMatchObject({ type: 'step', step: 3 });
    await groupGone(session.pid);
  });

  it('kills a trainer that ignores SIGTERM, and what it started, after the grace period', async () => {
    const stubborn = path.join(scripts, 'stubborn.mjs');
    await writeFile(
      stubborn,
      `process.on('SIGTERM', () => console.error('not stopping'));
      console.log(${JSON.stringify(JSON.stringify(reference[0]))});
      setInterval(() => {}, 1000);`,
    );
    const session = start(`sleep 600 & node ${stubborn}`, {}, { killGraceMs: 200 });
    const events = await collect(session, async () => {
      await session.cancel();
    });
    expect(events.map((e) => e.type)).toEqual(['prepared']);
    await groupGone(session.pid);
  });

  it('ends with the answer to a pause, stopping a trainer that does not exit then', async () => {
    const lingering = path.join(scripts, 'lingering.mjs');
    await writeFile(
      lingering,
      `import { writeFileSync } from 'node:fs';
      process.on('SIGTERM', () => {});
      process.on('SIGUSR2', () => {
        const file = process.env.TRAINER_WORKDIR + '/state';
        writeFileSync(file, 'paused state');
        console.log(JSON.stringify({ type: 'checkpoint', step: 1, epoch: 1, path: file }));
      });
      console.log(${JSON.stringify(JSON.stringify(reference[0]))});
      setInterval(() => {}, 1000);`,
    );
    const session = start(`node ${lingering}`, {}, { killGraceMs: 200 });
    const events = await collect(session, (e) => {
      if (e.type === 'prepared') session.pause();
    });
    expect(events.map((e) => e.type)).toEqual(['prepared', 'checkpoint']);
    const [checkpoint] = only(events, 'checkpoint');
    expect(Buffer.from(checkpoint!.state).toString()).toBe('paused state');
    await groupGone(session.pid);
  });

  it('breaking out of the loop stops the trainer', async () => {
    const session = start(TRAIN);
    for await (const event of session) if (event.type === 'step') break;
    await groupGone(session.pid);
  });
});
