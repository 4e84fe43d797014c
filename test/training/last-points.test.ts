import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { executeRows } from '../../src/db/raw.ts';
import { metricPoints } from '../../src/db/schema.ts';
import { lastPointsByJob, lastPointsQuery } from '../../src/training/metrics.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { newJob } from '../support/fixtures.ts';
import { seedTrainingData } from '../support/training-data.ts';

let database: TestDatabase;
beforeEach(async () => {
  database = await createTestDatabase();
  await seedTrainingData(database.db);
});
afterEach(() => database.close());

/** `steps` points from step 1; every tenth has a validation loss. */
async function addPoints(jobId: string, steps: number) {
  await database.db.insert(metricPoints).values(
    Array.from({ length: steps }, (_, i) => ({
      jobId,
      step: i + 1,
      epoch: 1,
      loss: i + 1,
      valLoss: (i + 1) % 10 === 0 ? i + 1 : null,
      learningRate: 0.001,
      recordedAt: new Date(),
    })),
  );
}

type PlanNode = {
  'Relation Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  Plans?: PlanNode[];
};

/** Rows the statement read from metric_points, by its executed plan (per-loop figures are averages). */
async function pointsRead(query: ReturnType<typeof lastPointsQuery>): Promise<number> {
  const [row] = await executeRows<{ 'QUERY PLAN': [{ Plan: PlanNode }] | string }>(
    database.db,
    sql`explain (analyze, format json) ${query}`,
  );
  const raw = row!['QUERY PLAN'];
  const plan = (typeof raw === 'string' ? JSON.parse(raw) : raw)[0].Plan as PlanNode;
  const read = (node: PlanNode): number =>
    (node['Relation Name'] === 'metric_points' ? node['Actual Rows'] * node['Actual Loops'] : 0) +
    (node.Plans ?? []).reduce((sum, child) => sum + read(child), 0);
  return Math.round(read(plan));
}

test("the last points of each job, oldest first, read without going through a job's older points", async () => {
  const [long, short, none] = [
    await newJob(database.db, 'long'),
    await newJob(database.db, 'short'),
    await newJob(database.db, 'none'),
  ];
  await addPoints(long.id, 2000);
  await addPoints(short.id, 2);
  const ids = [long.id, short.id, none.id];

  const last = await lastPointsByJob(database.db, ids, 3);
  expect(last.get(long.id)?.map((p) => p.step)).toEqual([1998, 1999, 2000]);
  expect(last.get(short.id)?.map((p) => p.step)).toEqual([1, 2]);
  expect(last.get(none.id)).toEqual([]);
  const validated = await lastPointsByJob(database.db, ids, 2, 'withValLoss');
  expect(validated.get(long.id)?.map((p) => p.valLoss)).toEqual([1990, 2000]);
  expect(validated.get(short.id)).toEqual([]);

  // of the 2,000 points of the long job (200 validated), a few rows near the newest
  expect(await pointsRead(lastPointsQuery(database.db, ids, 3))).toBeLessThan(20);
  expect(await pointsRead(lastPointsQuery(database.db, ids, 2, 'withValLoss'))).toBeLessThan(20);
});
