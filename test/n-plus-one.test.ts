import { afterEach, beforeEach, expect, test } from 'vitest';
import { createTestApp, ok, type TestApp } from './support/app.ts';
import { addPoints, addVersion, advance, JOB_FIELDS, newJob } from './support/fixtures.ts';

let app: TestApp;
beforeEach(async () => {
  app = await createTestApp({ trainingData: true });
});
afterEach(() => app.close());

test('100 jobs with metrics, history, config and model version cost a constant number of statements', async () => {
  const db = app.database.db;
  for (let i = 0; i < 100; i++) {
    const job = await newJob(db, `job ${i}`);
    await addPoints(db, job.id, 12, 4);
    if (i % 10 === 0) {
      await addVersion(
        db,
        await advance(db, job, 'claim', 'startTraining', 'startValidation', 'complete'),
        i / 10 + 1,
      );
    }
  }
  app.queries.length = 0;
  const result = ok(
    await app.gql<{
      trainingJobs: {
        edges: { node: { metrics: { lossHistory: number[] }; modelVersion: unknown } }[];
      };
    }>(
      `{ trainingJobs(first: 100) { edges { node { ${JOB_FIELDS} modelVersion { job { name } } } } } }`,
    ),
  );
  expect(result.trainingJobs.edges).toHaveLength(100);
  expect(result.trainingJobs.edges.every((e) => e.node.metrics.lossHistory.length === 12)).toBe(
    true,
  );
  expect(result.trainingJobs.edges.filter((e) => e.node.modelVersion)).toHaveLength(10);
  // page, loss histories (2), history(last: 5), model versions, their jobs
  expect(app.queries.length).toBeLessThanOrEqual(6);
});
