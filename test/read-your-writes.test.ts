import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/client.ts';
import { type PgRelay, startPgRelay } from '../src/events/pg-relay.ts';
import type { AppTopics } from '../src/events/topics.ts';
import { encodeGlobalID } from '../src/schema/global-ids.ts';
import { getJob } from '../src/training/jobs.ts';
import { jsonl, record, uploadJsonl } from './dataset/helpers.ts';
import { ADMIN_TOKEN, createTestApp, ok, type TestApp } from './support/app.ts';
import { onPostgres } from './support/databases.ts';
import { addVersion, newJob } from './support/fixtures.ts';
import { FakeRunner } from './support/runner.ts';
import { seedTrainingData } from './support/training-data.ts';
import {
  createJob,
  gatedTrainer,
  importCorpus,
  jobInput,
  quietLogger,
  startTestRunner,
  waitFor,
  watchJob,
} from './training/runner-support.ts';

// A TTL far beyond any test, so that only the invalidation can make a result fresh.
const settings = loadConfig({ OCR_WORKERS: '1', RESPONSE_CACHE_TTL_MS: '600000' });

let app: TestApp;
const cleanups: (() => Promise<unknown>)[] = [];
beforeEach(async () => {
  app = await createTestApp({ settings });
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await app.close();
});

/** A query's data and the SQL statements it cost: 0 means the response cache answered. */
async function read<T = Record<string, unknown>>(
  query: string,
  variables?: Record<string, unknown>,
  on: TestApp = app,
) {
  const before = on.queries.length;
  const data = ok(await on.gql<T>(query, variables));
  return { data, statements: on.queries.length - before };
}

/** Reads a query twice, the second time from the cache, and returns its data. */
async function cached<T = Record<string, unknown>>(
  query: string,
  variables?: Record<string, unknown>,
  on: TestApp = app,
) {
  await read(query, variables, on);
  const again = await read<T>(query, variables, on);
  expect(again.statements, `${query} is cached`).toBe(0);
  return again.data;
}

const mutate = async (query: string, variables?: Record<string, unknown>) =>
  ok(await app.gql(query, variables));

const STATS = '{ datasetStats { totalDocuments } }';
const DOCUMENTS = '{ documents(first: 100) { edges { node { title } } } }';
const STATUS = `{ trainingStatus {
  totalJobs queuedJobs completedJobs runningJobs modelVersions activeModels
} }`;
const JOBS = `query($status: [TrainingStatus!]) {
  trainingJobs(status: $status) { edges { node { name status } } }
}`;
const JOB = 'query($id: ID!) { trainingJob(id: $id) { name status queuePosition } }';
const VERSIONS = `query($activeOnly: Boolean) {
  modelVersions(activeOnly: $activeOnly) { edges { node { version isActive } } }
}`;

type Listed<K extends string, N> = Record<K, { edges: { node: N }[] }>;
const names = (data: unknown) =>
  (data as Listed<'trainingJobs', { name: string }>).trainingJobs.edges.map((e) => e.node.name);
const jobsIn = async (...status: string[]) => names((await read(JOBS, { status })).data);
const versionsOf = (data: unknown) =>
  (data as Listed<'modelVersions', { version: string }>).modelVersions.edges.map(
    (e) => e.node.version,
  );

describe('after a mutation returns, every query of the process sees its effect', () => {
  test('import: datasetStats and documents; an import that adds nothing drops nothing', async () => {
    expect(await cached(STATS)).toEqual({ datasetStats: { totalDocuments: 0 } });
    expect(await cached(DOCUMENTS)).toEqual({ documents: { edges: [] } });
    await cached(STATUS);

    const file = jsonl(Array.from({ length: 30 }, () => record()));
    expect((await uploadJsonl(app, file)).data?.importDocuments).toMatchObject({ added: 30 });
    expect((await read(STATS)).data).toEqual({ datasetStats: { totalDocuments: 30 } });
    expect((await read(DOCUMENTS)).data.documents).toMatchObject({
      edges: expect.objectContaining({ length: 30 }),
    });
    // The job counts hold no document.
    expect((await read(STATUS)).statements).toBe(0);

    await cached(STATS);
    expect((await uploadJsonl(app, file)).data?.importDocuments).toMatchObject({
      added: 0,
      skipped: 30,
    });
    expect((await read(STATS)).statements).toBe(0);
  });

  test('create: trainingStatus and trainingJobs', async () => {
    await seedTrainingData(app.database.db);
    expect(await cached(STATUS)).toMatchObject({ trainingStatus: { totalJobs: 0, queuedJobs: 0 } });
    expect(names(await cached(JOBS))).toEqual([]);
    expect(names(await cached(JOBS, { status: ['QUEUED'] }))).toEqual([]);
    await cached(STATS);

    await mutate(
      'mutation { createTrainingJob(input: { name: "new", bundeslaender: ["NW"] }) { id } }',
    );
    expect((await read(STATUS)).data).toMatchObject({
      trainingStatus: { totalJobs: 1, queuedJobs: 1 },
    });
    expect(await jobsIn()).toEqual(['new']);
    expect(await jobsIn('QUEUED')).toEqual(['new']);
    expect((await read(STATS)).statements).toBe(0);
  });

  test('pause, cancel, delete: lists filtered by status, the queue, the counts', async () => {
    await seedTrainingData(app.database.db);
    const first = await newJob(app.database.db, 'first');
    const second = await newJob(app.database.db, 'second');
    const id = encodeGlobalID('TrainingJob', first.id);
    const secondId = { id: encodeGlobalID('TrainingJob', second.id) };
    const prime = async () => {
      for (const status of ['QUEUED', 'PAUSED', 'CANCELLED'])
        await cached(JOBS, { status: [status] });
      await cached(STATUS);
      await cached(JOB, secondId);
    };

    await prime();
    expect((await read(JOB, secondId)).data).toMatchObject({ trainingJob: { queuePosition: 2 } });
    await mutate('mutation($id: ID!) { pauseTrainingJob(id: $id) { id } }', { id });
    expect(await jobsIn('PAUSED')).toEqual(['first']);
    expect(await jobsIn('QUEUED')).toEqual(['second']);
    // a result that holds only the other job, changed all the same
    expect((await read(JOB, secondId)).data).toMatchObject({ trainingJob: { queuePosition: 1 } });

    await prime();
    await mutate('mutation($id: ID!) { cancelTrainingJob(id: $id) { id } }', { id });
    expect(await jobsIn('PAUSED')).toEqual([]);
    expect(await jobsIn('CANCELLED')).toEqual(['first']);

    await prime();
    await mutate('mutation($id: ID!) { deleteTrainingJob(id: $id) }', { id });
    expect(await jobsIn('CANCELLED')).toEqual([]);
    expect((await read(STATUS)).data).toMatchObject({ trainingStatus: { totalJobs: 1 } });
    expect((await read(JOB, { id })).data).toEqual({ trainingJob: null });
  });

  test('activate and delete a model version: modelVersions(activeOnly) and trainingStatus', async () => {
    await seedTrainingData(app.database.db);
    const db = app.database.db;
    const v1 = await addVersion(db, await newJob(db, 'a'), 1);
    const v2 = await addVersion(db, await newJob(db, 'b'), 2);
    const versionId = (row: { id: string }) => encodeGlobalID('ModelVersion', row.id);
    const V1 = 'query($id: ID!) { modelVersion(id: $id) { isActive } }';

    expect(versionsOf(await cached(VERSIONS, { activeOnly: true }))).toEqual([]);
    expect(versionsOf(await cached(VERSIONS))).toEqual(['v2.0', 'v1.0']);
    expect(await cached(STATUS)).toMatchObject({
      trainingStatus: { modelVersions: 2, activeModels: 0 },
    });
    expect(await cached(V1, { id: versionId(v1) })).toEqual({ modelVersion: { isActive: false } });
    await cached(STATS);

    await mutate('mutation($id: ID!) { activateModelVersion(id: $id) { id } }', {
      id: versionId(v1),
    });
    expect(versionsOf((await read(VERSIONS, { activeOnly: true })).data)).toEqual(['v1.0']);
    expect((await read(STATUS)).data).toMatchObject({
      trainingStatus: { modelVersions: 2, activeModels: 1 },
    });
    expect((await read(V1, { id: versionId(v1) })).data).toEqual({
      modelVersion: { isActive: true },
    });

    expect(versionsOf(await cached(VERSIONS))).toEqual(['v2.0', 'v1.0']);
    await mutate('mutation($id: ID!) { deleteModelVersion(id: $id) }', { id: versionId(v2) });
    expect(versionsOf((await read(VERSIONS)).data)).toEqual(['v1.0']);
    expect((await read(STATUS)).data).toMatchObject({
      trainingStatus: { modelVersions: 1, activeModels: 1 },
    });
    expect((await read(STATS)).statements).toBe(0);
  });

  test('OCR batches change with every image: never cached', async () => {
    const query = 'query($id: ID!) { ocrBatch(id: $id) { status } }';
    const id = encodeGlobalID('OcrBatch', randomUUID());
    await read(query, { id });
    expect((await read(query, { id })).statements).toBeGreaterThan(0);
  });
});

/** A job training, held at its first step once that step's progress is stored and announced. */
async function trainingAtStep1() {
  await importCorpus(app.database.db);
  const gate = gatedTrainer({ holdNewJobsAt: 1 });
  // No background statements while the job waits at its gate: no lease renewal, no checkpoint.
  const runner = startTestRunner(
    { db: app.database.db, events: app.events },
    { trainer: gate.trainer, leaseMs: 600_000, checkpointIntervalMs: 600_000 },
  );
  cleanups.push(() => runner.stop());
  const job = await createJob(app, jobInput('trained'));
  // A flush is announced right after it is stored: wait for the announcement, not the row.
  const watched = watchJob(app.events, job.rowId);
  cleanups.push(async () => watched.stop());
  const flushed = (step: number) =>
    waitFor(`the flush of step ${step}`, () => watched.latest()?.currentStep === step);
  await gate.atGate(job.rowId, 1);
  await flushed(1);
  /** Lets the job take its next step and waits until that step's progress is announced. */
  const step2 = async () => {
    gate.hold(job.rowId, 2);
    await gate.atGate(job.rowId, 2);
    await flushed(2);
  };
  return { job, gate, watched, step2 };
}

describe('a training job', () => {
  test('its progress refreshes the results that hold it and leaves the others cached; its completion shows everywhere', async () => {
    const { job, gate, watched, step2 } = await trainingAtStep1();

    const PROGRESS =
      'query($id: ID!) { trainingJob(id: $id) { currentStep history(last: 1) { step } } }';
    const ACTIVE = '{ trainingStatus { activeJob { currentStep } } }';
    const unrelated: [string, Record<string, unknown>?][] = [
      [STATUS],
      [STATS],
      [DOCUMENTS],
      [JOBS, { status: ['COMPLETED'] }],
      [VERSIONS],
    ];
    expect(await cached(PROGRESS, { id: job.id })).toEqual({
      trainingJob: { currentStep: 1, history: [] },
    });
    expect(await cached(ACTIVE)).toEqual({ trainingStatus: { activeJob: { currentStep: 1 } } });
    const before = [];
    for (const [query, variables] of unrelated) before.push(await cached(query, variables));

    await step2();

    // First the unrelated results: a fresh read of ACTIVE would refill the system-status cache
    // too, and STATUS would then cost no statement even if the response cache had dropped it.
    for (const [index, [query, variables]] of unrelated.entries()) {
      const again = await read(query, variables);
      expect(again, query).toEqual({ data: before[index], statements: 0 });
    }
    // The newest point is stored once final (the next step makes it so): step 1's, now.
    expect((await read(PROGRESS, { id: job.id })).data).toEqual({
      trainingJob: { currentStep: 2, history: [{ step: 1 }] },
    });
    expect((await read(ACTIVE)).data).toEqual({
      trainingStatus: { activeJob: { currentStep: 2 } },
    });

    gate.release(job.rowId);
    await watched.reached('COMPLETED');
    expect(await jobsIn('COMPLETED')).toEqual(['trained']);
    expect(versionsOf((await read(VERSIONS)).data)).toEqual(['v1.0']);
    expect((await read(STATUS)).data).toMatchObject({
      trainingStatus: { completedJobs: 1, runningJobs: 0, modelVersions: 1 },
    });
    expect((await read(STATS)).statements).toBe(0);
  });

  test('its progress leaves cached the results that select none of it, and a status change drops them', async () => {
    const { job, gate, watched, step2 } = await trainingAtStep1();
    const STEADY: [string, Record<string, unknown>?][] = [
      ['{ trainingStatus { isTraining activeJob { id name status } totalJobs } }'],
      [
        'query($id: ID!) { trainingJob(id: $id) { name status startedAt config { epochs } } }',
        { id: job.id },
      ],
      ['{ trainingJobs(first: 5) { edges { node { id name status queuePosition } } } }'],
    ];
    // each selects something of the job that its progress changes, beside what it does not
    const PROGRESSING: [string, Record<string, unknown>?][] = [
      ['{ trainingStatus { activeJob { name metrics { lossHistory } } } }'],
      [
        'query($id: ID!) { node(id: $id) { ... on TrainingJob { status totalSteps } } }',
        { id: job.id },
      ],
      ['{ trainingJobs(first: 5) { edges { node { name curve { step } } } } }'],
    ];
    const steady = [];
    for (const [query, variables] of STEADY) steady.push(await cached(query, variables));
    const progressing = [];
    for (const [query, variables] of PROGRESSING) progressing.push(await cached(query, variables));
    expect(progressing[0]).toEqual({
      trainingStatus: { activeJob: { name: 'trained', metrics: { lossHistory: [] } } },
    });

    await step2();

    for (const [index, [query, variables]] of STEADY.entries()) {
      expect(await read(query, variables), query).toEqual({ data: steady[index], statements: 0 });
    }
    for (const [query, variables] of PROGRESSING) {
      expect((await read(query, variables)).statements, query).toBeGreaterThan(0);
    }
    expect((await read(PROGRESSING[0]![0])).data).toEqual({
      trainingStatus: {
        activeJob: { name: 'trained', metrics: { lossHistory: [expect.any(Number)] } },
      },
    });

    await cached(...STEADY[1]!);
    gate.release(job.rowId);
    await watched.reached('COMPLETED');
    expect((await read(...STEADY[0]!)).data).toMatchObject({
      trainingStatus: { isTraining: false, activeJob: null },
    });
    expect((await read(...STEADY[1]!)).data).toMatchObject({
      trainingJob: { name: 'trained', status: 'COMPLETED' },
    });
  });
});

test('a cached result is sent byte for byte as it was executed, without serializing it again', async () => {
  await seedTrainingData(app.database.db);
  await newJob(app.database.db, 'listed');
  const post = () =>
    app.yoga.fetch('http://test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ query: '{ trainingJobs { edges { node { id name status } } } }' }),
    });
  const executed = await post();
  const body = await executed.text();
  expect(body).toContain('"name":"listed"');
  const stringify = vi.spyOn(JSON, 'stringify');
  cleanups.push(async () => stringify.mockRestore());
  const served = [await post(), await post()];
  const serializedResults = stringify.mock.calls.filter(
    ([value]) => typeof value === 'object' && value !== null && 'data' in value,
  );
  stringify.mockRestore();
  for (const response of served) {
    expect(await response.text()).toBe(body);
    expect(response.headers.get('content-type')).toBe(executed.headers.get('content-type'));
    expect(response.headers.get('etag')).toBe(executed.headers.get('etag'));
  }
  expect(serializedResults).toEqual([]);
});

describe.skipIf(!onPostgres())('on PostgreSQL', () => {
  test('another process sees a change once the relay delivers it', async () => {
    const bQueries: string[] = [];
    const url = app.database.url!;
    const bDatabase = await openDatabase({
      kind: 'postgres',
      url,
      onQuery: (s) => bQueries.push(s),
    });
    cleanups.push(() => bDatabase.close());
    const b = await createTestApp({ settings, database: bDatabase });
    cleanups.push(() => b.close());
    const relay = (on: TestApp) =>
      startPgRelay({
        sql: on.database.sql!,
        events: on.events,
        readJob: (id) => getJob(on.database.db, id),
        logger: quietLogger,
      });
    const relays: PgRelay[] = [await relay(app), await relay(b)];
    cleanups.push(() => Promise.all(relays.map((r) => r.stop())));
    const onB = { ...b, queries: bQueries };
    const heardOnB = <K extends keyof AppTopics & string>(topic: K) =>
      new Promise<void>((resolve) => {
        const unsubscribe = b.events.subscribe(topic, () => {
          unsubscribe();
          resolve();
        });
      });
    const jobsOnB: string[] = [];
    b.events.subscribe('jobs', ({ jobId }) => jobsOnB.push(jobId));

    expect(await cached(STATS, undefined, onB)).toEqual({ datasetStats: { totalDocuments: 0 } });
    expect(await cached(STATUS, undefined, onB)).toMatchObject({
      trainingStatus: { totalJobs: 0 },
    });

    const documents = heardOnB('documents');
    await uploadJsonl(app, jsonl([record(), record()]));
    await documents;
    expect((await read(STATS, undefined, onB)).data).toEqual({
      datasetStats: { totalDocuments: 2 },
    });
    expect((await read(STATUS, undefined, onB)).statements).toBe(0);

    const created = await createJob(app, { name: 'elsewhere', bundeslaender: ['NW'] });
    await vi.waitFor(() => expect(jobsOnB).toHaveLength(1));
    expect((await read(STATUS, undefined, onB)).data).toMatchObject({
      trainingStatus: { totalJobs: 1 },
    });

    // Progress made in A's process (as its runner would) refreshes B's results holding the job.
    const runner = new FakeRunner(app.database.db, app.events);
    await runner.start(created.rowId);
    await vi.waitFor(() => expect(jobsOnB).toHaveLength(3));
    const STEP = 'query($id: ID!) { trainingJob(id: $id) { currentStep } }';
    const NAME = 'query($id: ID!) { trainingJob(id: $id) { name status } }';
    await cached(STEP, { id: created.id }, onB);
    await cached(NAME, { id: created.id }, onB);
    await cached(STATS, undefined, onB);
    const progress = heardOnB('jobProgress');
    await runner.step(created.rowId, 3);
    await progress;
    expect((await read(STEP, { id: created.id }, onB)).data).toEqual({
      trainingJob: { currentStep: 3 },
    });
    expect((await read(NAME, { id: created.id }, onB)).statements).toBe(0);
    expect((await read(STATS, undefined, onB)).statements).toBe(0);
  });

  test('a result read before a change and finished after it is not cached', async () => {
    await seedTrainingData(app.database.db);
    const job = await newJob(app.database.db, 'raced');
    const id = encodeGlobalID('TrainingJob', job.id);
    // The job's row is read first, its model version after: that second read waits on a lock.
    const QUERY = 'query($id: ID!) { trainingJob(id: $id) { status modelVersion { id } } }';
    // one connection holds the lock, the other watches the read wait for it
    const locker = postgres(app.database.url!, { max: 2, onnotice: () => {} });
    cleanups.push(() => locker.end({ timeout: 0 }));
    const reserved = await locker.reserve();
    await reserved`begin`;
    await reserved`lock table model_versions in access exclusive mode`;
    const reading = app.gql(QUERY, { id });
    await waitFor('the read to wait on the lock', async () => {
      const [row] = await locker`
        select count(*)::int as waiting from pg_stat_activity
        where datname = current_database() and wait_event_type = 'Lock'
          and query like '%model_versions%'`;
      return row?.waiting === 1;
    });

    await app.training.pauseJob(job.id);
    await reserved`rollback`;
    reserved.release();
    expect(ok(await reading)).toEqual({ trainingJob: { status: 'QUEUED', modelVersion: null } });

    expect((await read(QUERY, { id })).data).toEqual({
      trainingJob: { status: 'PAUSED', modelVersion: null },
    });
  });
});
