import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'graphql-sse';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { announceJob } from '../src/events/topics.ts';
import { transitionJob } from '../src/training/jobs.ts';
import { createCommandTrainer } from '../src/training/trainers/command/command-trainer.ts';
import { createTestApp, ok, type TestApp } from './support/app.ts';
import { repoRoot } from './support/databases.ts';
import { type ServedApp, serveApp } from './support/http.ts';
import {
  expectExactRules,
  type Follower,
  FULL_RUN,
  followWithClient,
  type LivePoint,
  livePoint,
  PAUSED_AND_RESUMED,
  type SlowConsumer,
  slowStream,
  slowWatch,
  statusesOf,
} from './support/live-progress.ts';
import { sseClient } from './support/sse.ts';
import {
  checkpointOf,
  createJob,
  gatedTrainer,
  importCorpus,
  jobAction,
  jobInput,
  jobRow,
  pointsOf,
  startTestRunner,
  waitFor,
} from './training/runner-support.ts';

// CONTRACT.md, "Live progress: exact rules", with the real runner and trainer: every watcher
// opened before the job starts sees each status the job passes through and each metric point
// once, when final. Watchers of every kind at once: graphql-sse over HTTP in both modes
// (distinct connections take the fast path), and consumers that fall behind (a stream on the
// libraries' path and a domain-level watch, both read only once the job ended).

let app: TestApp;
let served: ServedApp;
let clients: Client[];
const stops: (() => Promise<void>)[] = [];
beforeEach(async () => {
  app = await createTestApp();
  await importCorpus(app.database.db);
  served = await serveApp(app);
  clients = [];
});
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
  for (const client of clients) client.dispose();
  await served.close();
  await app.close();
});

const db = () => app.database.db;
const runner = (options?: Parameters<typeof startTestRunner>[1]) => {
  const r = startTestRunner({ db: db(), events: app.events }, options);
  stops.push(() => r.stop());
  return r;
};

const EXAMPLE_TRAINER = `node ${repoRoot}/examples/trainer-command/train.mjs`;

type Watchers = { live: Record<'distinct' | 'single', Follower>; slow: SlowConsumer[] };

/** Every kind of watcher of the job, each with its first update (the job still QUEUED). */
async function watchAll(job: { id: string; rowId: string }): Promise<Watchers> {
  const follow = (singleConnection: boolean) => {
    const client = sseClient({ url: `${served.origin}/graphql/stream`, singleConnection });
    clients.push(client);
    return followWithClient(client, job.id);
  };
  const live = { distinct: follow(false), single: follow(true) };
  const slow = [
    await slowStream(app.yoga.fetch as typeof fetch, 'http://test/graphql/stream', job.id),
    await slowWatch(await app.training.watchProgress(job.rowId)),
  ];
  await waitFor('the first live updates', () =>
    Object.values(live).every((f) => f.updates.length > 0),
  );
  return { live, slow };
}

/** The job's stored points, in the table and as `history` serves them. */
async function storedPoints(job: { id: string; rowId: string }) {
  const stored = await pointsOf(db(), job.rowId);
  const { trainingJob } = ok(
    await app.gql<{ trainingJob: { history: LivePoint[] } }>(
      'query($id: ID!) { trainingJob(id: $id) { history(last: 1000) { step epoch loss valLoss } } }',
      { id: job.id },
    ),
  );
  expect(trainingJob.history).toEqual(stored.map(livePoint));
  return stored;
}

describe('live progress of a job trained by the runner', { timeout: 120_000 }, () => {
  test.each([
    { name: 'a small job', batchSize: 6, epochs: 1, command: false },
    { name: 'a job of several epochs', batchSize: 4, epochs: 3, command: false },
    // Any trainer: the example of docs/trainer-command.md, through the command protocol.
    { name: 'a job of the example command trainer', batchSize: 4, epochs: 2, command: true },
  ])(
    '$name: every status in order, each point once when final',
    async ({ name, batchSize, epochs, command }) => {
      const job = await createJob(app, jobInput(name, { batchSize, epochs }));
      const watchers = await watchAll(job);
      runner(command ? { trainer: createCommandTrainer({ command: EXAMPLE_TRAINER }) } : {});
      await Promise.all(Object.values(watchers.live).map((f) => f.done));

      const row = await jobRow(db(), job.rowId);
      expect(row.status).toBe('COMPLETED');
      const stored = await storedPoints(job);
      expect(stored).toHaveLength(row.totalSteps);
      const rules = { statuses: FULL_RUN, stored, stepsPerEpoch: row.totalSteps / epochs };
      for (const follower of Object.values(watchers.live))
        expectExactRules(follower.updates, rules);
      for (const slow of watchers.slow) expectExactRules(await slow.all(), rules);
    },
  );

  test('a command trainer that evaluates a step after its checkpoint: the point is stored with its valLoss, not sent again', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'late-eval-'));
    stops.push(() => rm(dir, { recursive: true, force: true }));
    // A step, its checkpoint, then its evaluation: against the protocol's order.
    const lines = [
      {
        type: 'prepared',
        totalSteps: 2,
        stepsPerEpoch: 2,
        trainSize: 8,
        validationSize: 2,
        labels: ['a', 'b'],
        precision: 'fp32',
        resumedFromStep: 0,
      },
      { type: 'step', step: 1, epoch: 1, loss: 0.9, learningRate: 0.1, examplesSeen: 4 },
      { type: 'step', step: 2, epoch: 1, loss: 0.8, learningRate: 0.1, examplesSeen: 8 },
      { type: 'checkpoint', step: 2, epoch: 1, path: 'checkpoint' },
      {
        type: 'eval',
        step: 2,
        epoch: 1,
        final: true,
        valLoss: 0.7,
        precision: 0.5,
        recall: 0.5,
        f1: 0.5,
        accuracy: 0.5,
      },
      { type: 'artifact', path: 'model' },
    ];
    const script = join(dir, 'late-eval.mjs');
    await writeFile(
      script,
      `import { writeFileSync } from 'node:fs';
process.on('SIGUSR1', () => {});
process.on('SIGUSR2', () => {});
process.chdir(process.env.TRAINER_WORKDIR);
writeFileSync('checkpoint', 'state');
writeFileSync('model', 'model');
for (const line of ${JSON.stringify(lines)}) {
  if (line.path) line.path = \`\${process.cwd()}/\${line.path}\`;
  process.stdout.write(JSON.stringify(line) + '\\n');
}
`,
    );
    const job = await createJob(app, jobInput('late eval'));
    const watchers = await watchAll(job);
    // No checkpoint requests: the script ends at once, and a signal during its exit would kill it.
    runner({
      trainer: createCommandTrainer({ command: `node ${script}` }),
      checkpointIntervalMs: 600_000,
    });
    await Promise.all(Object.values(watchers.live).map((f) => f.done));

    const row = await jobRow(db(), job.rowId);
    expect(row.errorMessage).toBeNull();
    expect(row).toMatchObject({ status: 'COMPLETED', totalSteps: 2, valLoss: 0.7 });
    const stored = await storedPoints(job);
    expect(stored.map((p) => [p.step, p.valLoss])).toEqual([
      [1, null],
      [2, 0.7],
    ]);
    for (const { updates } of Object.values(watchers.live)) {
      expect(statusesOf(updates)).toEqual(FULL_RUN);
      expect(updates.flatMap((u) => u.newPoints.map((p) => [p.step, p.valLoss]))).toEqual([
        [1, null],
        [2, null],
      ]);
    }
  });

  test('a resume announced only after the runner claimed the job: QUEUED still seen, in order', async () => {
    const gate = gatedTrainer();
    const epochs = 2;
    const job = await createJob(app, jobInput('resumed, announced late', { epochs }));
    expect(await jobAction(app, 'pauseTrainingJob', job.id)).toBe('PAUSED');
    gate.hold(job.rowId, 0);
    const watchers = await watchAll(job);
    // The resume commits, and its announcement comes last: on PostgreSQL the runner's claim can
    // be acknowledged first, and across processes the two are sent by different servers.
    const resumed = await transitionJob(db(), job.rowId, 'resume');
    runner({ trainer: gate.trainer });
    await gate.atGate(job.rowId, 0);
    await waitFor('TRAINING in every live stream', () =>
      Object.values(watchers.live).every((f) => f.updates.at(-1)?.job.status === 'TRAINING'),
    );
    announceJob(app.events, resumed);
    gate.release(job.rowId);
    await Promise.all(Object.values(watchers.live).map((f) => f.done));

    const row = await jobRow(db(), job.rowId);
    const rules = {
      statuses: ['PAUSED', ...FULL_RUN],
      stored: await storedPoints(job),
      stepsPerEpoch: row.totalSteps / epochs,
    };
    for (const follower of Object.values(watchers.live)) expectExactRules(follower.updates, rules);
    for (const slow of watchers.slow) expectExactRules(await slow.all(), rules);
  });

  test('paused at an epoch end and resumed: PAUSED and QUEUED seen, no point twice', async () => {
    const gate = gatedTrainer();
    const epochs = 2;
    const job = await createJob(app, jobInput('paused', { epochs }));
    gate.hold(job.rowId, 0);
    const watchers = await watchAll(job);
    runner({ trainer: gate.trainer });
    // The trainer prepared the run: the job trains and knows its length.
    await gate.atGate(job.rowId, 0);
    const { totalSteps } = await jobRow(db(), job.rowId);
    const epochEnd = totalSteps / epochs;
    gate.hold(job.rowId, epochEnd);
    await gate.atGate(job.rowId, epochEnd);

    // Held after the epoch's last step, before its evaluation: the pause checkpoint comes after
    // the evaluation, so that step's point goes out once, complete.
    expect(await jobAction(app, 'pauseTrainingJob', job.id)).toBe('PAUSED');
    await waitFor(
      'the pause checkpoint',
      async () => (await checkpointOf(db(), job.rowId))?.step === epochEnd,
    );
    gate.release(job.rowId);
    expect(await jobAction(app, 'resumeTrainingJob', job.id)).toBe('QUEUED');
    await Promise.all(Object.values(watchers.live).map((f) => f.done));

    expect((await jobRow(db(), job.rowId)).status).toBe('COMPLETED');
    const stored = await storedPoints(job);
    expect(stored).toHaveLength(totalSteps);
    // Statuses come back here: a consumer that falls behind (the libraries' streams pull, so a
    // loaded machine makes any of them one) merges an earlier visit into a later one.
    const rules = {
      statuses: PAUSED_AND_RESUMED,
      stored,
      stepsPerEpoch: epochEnd,
      statusesMayRepeat: true,
    };
    for (const follower of Object.values(watchers.live)) expectExactRules(follower.updates, rules);
    for (const slow of watchers.slow) expectExactRules(await slow.all(), rules);
  });
});
