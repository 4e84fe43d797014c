import type { Client } from 'graphql-sse';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createCommandTrainer } from '../src/training/trainers/command.ts';
import { createTestApp, ok, type TestApp } from './support/app.ts';
import { repoRoot } from './support/databases.ts';
import { type ServedApp, serveApp } from './support/http.ts';
import {
  expectExactRules,
  type Follower,
  followWithClient,
  type LivePoint,
  livePoint,
  type SlowConsumer,
  slowStream,
  slowWatch,
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

const FULL_RUN = ['QUEUED', 'PREPARING', 'TRAINING', 'VALIDATING', 'COMPLETED'];

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
    const statuses = [
      'QUEUED',
      'PREPARING',
      'TRAINING',
      'PAUSED',
      'QUEUED',
      'PREPARING',
      'TRAINING',
      'VALIDATING',
      'COMPLETED',
    ];
    const rules = { statuses, stored, stepsPerEpoch: epochEnd };
    for (const follower of Object.values(watchers.live)) expectExactRules(follower.updates, rules);
    // A consumer that fell behind gets one merged update per status: each status, not each visit.
    for (const slow of watchers.slow) {
      expectExactRules(await slow.all(), { ...rules, everyStatus: true });
    }
  });
});
