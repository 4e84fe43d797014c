import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { encodeGlobalID } from '../src/schema/global-ids.ts';
import { BUILTIN_RECOMMENDATION } from '../src/training/trainers/port.ts';
import { codes, createTestApp, ok, type TestApp } from './support/app.ts';
import { addPoints, advance, JOB_FIELDS, newJob } from './support/fixtures.ts';

let app: TestApp;
beforeEach(async () => {
  app = await createTestApp({ trainingData: true });
});
afterEach(() => app.close());

type Job = { id: string; status: string; [key: string]: unknown };
const gid = (id: string) => encodeGlobalID('TrainingJob', id);

const create = async (name: string, extra = '') =>
  ok(
    await app.gql<{ createTrainingJob: Job }>(
      `mutation($name: String!) { createTrainingJob(input: { name: $name, bundeslaender: ["NW", "BY"] ${extra} }) { ${JOB_FIELDS} } }`,
      { name },
    ),
  ).createTrainingJob;

const act = (mutation: string, id: string) =>
  app.gql<Record<string, Job>>(`mutation($id: ID!) { ${mutation}(id: $id) { id status } }`, { id });

describe('createTrainingJob', () => {
  test('queues a job with the contract defaults', async () => {
    const job = await create('Zeugnisse NRW');
    expect(job).toMatchObject({
      name: 'Zeugnisse NRW',
      modelType: 'ZEUGNIS',
      status: 'QUEUED',
      progress: 0,
      totalEpochs: 10,
      loss: null,
      startedAt: null,
      modelVersion: null,
      history: [],
      metrics: { precision: 0, lossHistory: [], valLossHistory: [] },
      config: {
        batchSize: 16,
        epochs: 10,
        weightDecay: 0.01,
        gradientAccumulation: 4,
        mixedPrecision: true,
        bundeslaender: ['NW', 'BY'],
        activation: 'IF_BETTER',
        // left out: the built-in trainer's recommendation for a run this short
        defaultsApplied: ['learningRate', 'warmupSteps'],
        learningRate: BUILTIN_RECOMMENDATION.shortRunLearningRate,
        warmupSteps: BUILTIN_RECOMMENDATION.warmupSteps,
      },
    });
    const plan = job.plan as { totalSteps: number; learningRate: number };
    expect(plan.totalSteps).toBeLessThan(BUILTIN_RECOMMENDATION.shortRunSteps);
    expect(plan.learningRate).toBe(BUILTIN_RECOMMENDATION.shortRunLearningRate);
    expect(new Date(job.createdAt as string).getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  test('survives in the database: trainingJob and node read it back', async () => {
    const job = await create('persisted');
    const read = ok(
      await app.gql<{ trainingJob: Job; node: Job }>(
        `query($id: ID!) { trainingJob(id: $id) { id name } node(id: $id) { id ... on TrainingJob { status } } }`,
        { id: job.id },
      ),
    );
    expect(read.trainingJob).toEqual({ id: job.id, name: 'persisted' });
    expect(read.node).toEqual({ id: job.id, status: 'QUEUED' });
  });
});

describe('trainingJobs connection', () => {
  test('pages newest first without gaps or repeats, and filters', async () => {
    for (let i = 0; i < 7; i++)
      await newJob(app.database.db, `job ${i}`, i % 2 ? { modelType: 'KLAUSUR' } : {});
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: {
        trainingJobs: {
          edges: { node: { name: string }; cursor: string }[];
          pageInfo: { hasNextPage: boolean; endCursor: string };
        };
      } = ok(
        await app.gql(
          `query($after: String) { trainingJobs(first: 3, after: $after) { edges { cursor node { name } } pageInfo { hasNextPage endCursor } } }`,
          { after },
        ),
      );
      seen.push(...page.trainingJobs.edges.map((e) => e.node.name));
      if (!page.trainingJobs.pageInfo.hasNextPage) break;
      after = page.trainingJobs.pageInfo.endCursor;
    }
    expect(seen).toEqual(['job 6', 'job 5', 'job 4', 'job 3', 'job 2', 'job 1', 'job 0']);

    const filtered = ok(
      await app.gql<{ trainingJobs: { edges: { node: { name: string } }[] } }>(
        `{ trainingJobs(modelType: KLAUSUR, status: [QUEUED]) { edges { node { name } } } }`,
      ),
    );
    expect(filtered.trainingJobs.edges.map((e) => e.node.name)).toEqual([
      'job 5',
      'job 3',
      'job 1',
    ]);
  });

  test('refuses pages over 100 and foreign cursors', async () => {
    const big = await app.gql(`{ trainingJobs(first: 101) { edges { cursor } } }`);
    expect(codes(big)).toEqual(['BAD_USER_INPUT']);
    expect(big.errors?.[0]?.extensions?.field).toBe('first');
    const bad = await app.gql(`{ trainingJobs(after: "bm9wZQ") { edges { cursor } } }`);
    expect(codes(bad)).toEqual(['BAD_USER_INPUT']);
  });
});

describe('state machine through the API', () => {
  test('pause, resume and cancel follow the contract', async () => {
    const job = await create('lifecycle');
    expect(ok(await act('pauseTrainingJob', job.id)).pauseTrainingJob?.status).toBe('PAUSED');
    expect(ok(await act('resumeTrainingJob', job.id)).resumeTrainingJob?.status).toBe('QUEUED');
    expect(ok(await act('pauseTrainingJob', job.id)).pauseTrainingJob?.status).toBe('PAUSED');
    expect(ok(await act('cancelTrainingJob', job.id)).cancelTrainingJob?.status).toBe('CANCELLED');
  });

  test('a refused action names the action and the current status', async () => {
    const job = await create('refused');
    const resumed = await act('resumeTrainingJob', job.id);
    expect(codes(resumed)).toEqual(['INVALID_TRANSITION']);
    expect(resumed.errors?.[0]?.message).toMatch(/resume.*QUEUED/);
    await act('cancelTrainingJob', job.id);
    for (const mutation of ['pauseTrainingJob', 'resumeTrainingJob', 'cancelTrainingJob']) {
      const result = await act(mutation, job.id);
      expect(codes(result)).toEqual(['INVALID_TRANSITION']);
      expect(result.errors?.[0]?.message).toContain('CANCELLED');
    }
  });

  test('pausing a running job works; deleting it is a CONFLICT until it stops', async () => {
    const row = await advance(
      app.database.db,
      await newJob(app.database.db),
      'claim',
      'startTraining',
    );
    const id = gid(row.id);
    const refused = await app.gql(`mutation($id: ID!) { deleteTrainingJob(id: $id) }`, { id });
    expect(codes(refused)).toEqual(['CONFLICT']);
    expect(refused.errors?.[0]?.message).toContain('TRAINING');
    expect(ok(await act('pauseTrainingJob', id)).pauseTrainingJob?.status).toBe('PAUSED');
    expect(ok(await app.gql(`mutation($id: ID!) { deleteTrainingJob(id: $id) }`, { id }))).toEqual({
      deleteTrainingJob: id,
    });
    expect(ok(await app.gql(`query($id: ID!) { trainingJob(id: $id) { id } }`, { id }))).toEqual({
      trainingJob: null,
    });
  });

  test('delete removes the metric history with the job', async () => {
    const row = await newJob(app.database.db);
    await addPoints(app.database.db, row.id, 20);
    ok(await app.gql(`mutation($id: ID!) { deleteTrainingJob(id: $id) }`, { id: gid(row.id) }));
    const left = await app.database.db.query.metricPoints.findMany();
    expect(left).toEqual([]);
  });

  test('unknown and malformed ids', async () => {
    const unknown = gid('00000000-0000-4000-8000-000000000000');
    for (const mutation of ['pauseTrainingJob', 'resumeTrainingJob', 'cancelTrainingJob']) {
      expect(codes(await act(mutation, unknown))).toEqual(['NOT_FOUND']);
    }
    expect(codes(await app.gql(`mutation { deleteTrainingJob(id: "${unknown}") }`))).toEqual([
      'NOT_FOUND',
    ]);
    const malformed = await act('pauseTrainingJob', 'not-an-id');
    expect(codes(malformed)).toEqual(['BAD_USER_INPUT']);
    expect(malformed.errors?.[0]?.extensions?.field).toBe('id');
    const wrongType = await act('pauseTrainingJob', encodeGlobalID('ModelVersion', 'x'));
    expect(codes(wrongType)).toEqual(['BAD_USER_INPUT']);
    expect(ok(await app.gql(`{ trainingJob(id: "${unknown}") { id } }`))).toEqual({
      trainingJob: null,
    });
  });
});

describe('metrics and history', () => {
  test('come from the stored metric points', async () => {
    const row = await newJob(app.database.db);
    await addPoints(app.database.db, row.id, 120, 10);
    const { trainingJob } = ok(
      await app.gql<{
        trainingJob: {
          metrics: { lossHistory: number[]; valLossHistory: number[] };
          history: { step: number; valLoss: number | null }[];
        };
      }>(
        `query($id: ID!) { trainingJob(id: $id) { metrics { lossHistory valLossHistory } history(last: 3) { step valLoss } } }`,
        { id: gid(row.id) },
      ),
    );
    expect(trainingJob.metrics.lossHistory).toHaveLength(50);
    expect(trainingJob.metrics.lossHistory.at(-1)).toBeCloseTo(1 / 120);
    expect(trainingJob.metrics.valLossHistory).toHaveLength(12);
    expect(trainingJob.history).toEqual([
      { step: 118, valLoss: null },
      { step: 119, valLoss: null },
      { step: 120, valLoss: expect.closeTo(1.1 / 120) },
    ]);
  });
});

describe('trainingStatus', () => {
  test('counts jobs and versions, and shows the running job', async () => {
    const db = app.database.db;
    await newJob(db, 'queued');
    const running = await advance(db, await newJob(db, 'running'), 'claim', 'startTraining');
    await advance(db, await newJob(db, 'failed'), 'fail');
    const status = ok(
      await app.gql<{ trainingStatus: Record<string, unknown> }>(
        `{ trainingStatus { isTraining activeJob { id name } totalJobs completedJobs failedJobs queuedJobs runningJobs modelVersions activeModels } }`,
      ),
    ).trainingStatus;
    expect(status).toEqual({
      isTraining: true,
      activeJob: { id: gid(running.id), name: 'running' },
      totalJobs: 3,
      completedJobs: 0,
      failedJobs: 1,
      queuedJobs: 1,
      runningJobs: 1,
      modelVersions: 0,
      activeModels: 0,
    });
  });

  test('reflects a mutation at once', async () => {
    const before = ok(
      await app.gql<{ trainingStatus: { totalJobs: number } }>(`{ trainingStatus { totalJobs } }`),
    );
    await create('one more');
    const after = ok(
      await app.gql<{ trainingStatus: { totalJobs: number } }>(`{ trainingStatus { totalJobs } }`),
    );
    expect(after.trainingStatus.totalJobs).toBe(before.trainingStatus.totalJobs + 1);
  });
});
