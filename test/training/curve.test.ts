import { and, eq, gt, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Db } from '../../src/db/client.ts';
import { type MetricPointRow, metricPoints, trainingJobs } from '../../src/db/schema.ts';
import { encodeGlobalID } from '../../src/schema/global-ids.ts';
import { codes, createTestApp, ok, type TestApp, testSettings } from '../support/app.ts';
import { insertPoints, newJob, noisyPointRows, pointRows } from '../support/fixtures.ts';
import { expectedBlocks, storedBlocks } from '../support/metric-blocks.ts';

type Point = { step: number; loss: number | null; valLoss: number | null; timestamp: string };

const POINTS = 20_000;

let app: TestApp;
let jobId: string;
let rows: MetricPointRow[];

beforeAll(async () => {
  // no response cache: some tests write points behind the API's back, as a runner does
  app = await createTestApp({
    trainingData: true,
    settings: testSettings({ RESPONSE_CACHE_TTL_MS: '0' }),
  });
  const job = await newJob(app.database.db, 'long run');
  jobId = encodeGlobalID('TrainingJob', job.id);
  rows = noisyPointRows(job.id, POINTS);
  await insertPoints(app.database.db, rows);
});
afterAll(() => app.close());

const curveQuery = `query ($id: ID!, $maxPoints: Int!, $fromStep: Int, $toStep: Int) {
  trainingJob(id: $id) {
    curve(maxPoints: $maxPoints, fromStep: $fromStep, toStep: $toStep) { step loss valLoss timestamp }
  }
}`;

async function curveOf(
  id: string,
  maxPoints: number,
  range: { fromStep?: number; toStep?: number } = {},
) {
  const data = ok(
    await app.gql<{ trainingJob: { curve: Point[] } }>(curveQuery, { id, maxPoints, ...range }),
  );
  return data.trainingJob.curve;
}

const curve = (maxPoints: number, range: { fromStep?: number; toStep?: number } = {}) =>
  curveOf(jobId, maxPoints, range);

/**
 * The rule of `TrainingJob.curve` (see src/training/curve.ts), written out over the points in
 * memory: the steps it must return.
 */
function expectedSteps(points: readonly MetricPointRow[], maxPoints: number): number[] {
  const first = points[0];
  const last = points.at(-1);
  if (!first || !last) return [];
  const slices = Math.max(maxPoints - 2, 1);
  const budget = maxPoints - 2;
  const validations = points.filter((p) => p.valLoss !== null);
  const thin = validations.length > budget;
  const buckets = thin ? Math.floor(budget / 4) : Math.floor((budget - validations.length) / 2);
  const chosen = new Set([first.step, last.step]);
  if (!thin) for (const p of validations) chosen.add(p.step);
  if (buckets === 0) return [...chosen].sort((a, b) => a - b);
  const groups = new Map<number, MetricPointRow[]>();
  for (const p of points) {
    const slice = Math.floor(((p.step - first.step) * slices) / (last.step - first.step + 1));
    const bucket = Math.floor((slice * buckets) / slices);
    groups.set(bucket, [...(groups.get(bucket) ?? []), p]);
  }
  const extremes = (group: MetricPointRow[], value: (p: MetricPointRow) => number | null) => {
    const valued = group.filter((p) => value(p) !== null);
    const v = (p: MetricPointRow) => value(p) as number;
    // ties: the earliest step for the lowest value, the latest for the highest
    const low = valued.reduce<MetricPointRow | undefined>(
      (a, p) => (!a || v(p) < v(a) ? p : a),
      undefined,
    );
    const high = valued.reduce<MetricPointRow | undefined>(
      (a, p) => (!a || v(p) >= v(a) ? p : a),
      undefined,
    );
    for (const p of [low, high]) if (p) chosen.add(p.step);
  };
  for (const group of groups.values()) {
    extremes(group, (p) => p.loss);
    if (thin) extremes(group, (p) => p.valLoss);
  }
  return [...chosen].sort((a, b) => a - b);
}

function expectShape(curvePoints: Point[], points: readonly MetricPointRow[], maxPoints: number) {
  const steps = curvePoints.map((p) => p.step);
  expect(steps.length).toBeLessThanOrEqual(maxPoints);
  expect(steps.every((step, i) => i === 0 || step > (steps[i - 1] as number))).toBe(true);
  expect(steps[0]).toBe(points[0]?.step);
  expect(steps.at(-1)).toBe(points.at(-1)?.step);
  expect(steps).toEqual(expectedSteps(points, maxPoints));
  const byStep = new Map(points.map((p) => [p.step, p]));
  for (const p of curvePoints) {
    const stored = byStep.get(p.step);
    expect([p.loss, p.valLoss, p.timestamp]).toEqual([
      stored?.loss,
      stored?.valLoss,
      stored?.recordedAt.toISOString(),
    ]);
  }
}

describe('curve', () => {
  test('keeps first, last, every validation point and each bucket’s extremes within maxPoints', async () => {
    const points = await curve(500);
    expectShape(points, rows, 500);
    const validations = rows.filter((p) => p.valLoss !== null).map((p) => p.step);
    expect(validations.length).toBeGreaterThan(100);
    const steps = new Set(points.map((p) => p.step));
    expect(validations.filter((step) => !steps.has(step))).toEqual([]);
    // the budget left after the validation points goes to bucket extremes
    expect(points.length).toBeGreaterThan(450);
  });

  test('buckets the validation points too when they alone exceed the budget', async () => {
    const validations = rows.filter((p) => p.valLoss !== null).length;
    const maxPoints = 100;
    expect(validations).toBeGreaterThan(maxPoints);
    const points = await curve(maxPoints);
    expectShape(points, rows, maxPoints);
    expect(points.filter((p) => p.valLoss !== null).length).toBeGreaterThan(10);
  });

  test('the default is 500 points; the smallest curve is the first and last point', async () => {
    const data = ok(
      await app.gql<{ trainingJob: { curve: Point[] } }>(
        'query ($id: ID!) { trainingJob(id: $id) { curve { step loss valLoss timestamp } } }',
        { id: jobId },
      ),
    );
    expectShape(data.trainingJob.curve, rows, 500);
    expect((await curve(2)).map((p) => p.step)).toEqual([1, POINTS]);
  });

  test('fromStep and toStep limit it to a range of steps', async () => {
    const range = rows.filter((p) => p.step >= 5_003 && p.step <= 7_777);
    expectShape(await curve(60, { fromStep: 5_003, toStep: 7_777 }), range, 60);
    const tail = rows.filter((p) => p.step >= 19_000);
    expectShape(await curve(300, { fromStep: 19_000 }), tail, 300);
    expect(await curve(10, { fromStep: POINTS + 1 })).toEqual([]);
  });

  test('a run shorter than the budget comes back whole; a job without points has an empty curve', async () => {
    const short = await newJob(app.database.db, 'short run');
    await insertPoints(app.database.db, pointRows(short.id, 40));
    const empty = await newJob(app.database.db, 'no points yet');
    const data = ok(
      await app.gql<{ short: { curve: Point[] }; empty: { curve: Point[] } }>(
        `query ($short: ID!, $empty: ID!) {
          short: trainingJob(id: $short) { curve(maxPoints: 500) { step } }
          empty: trainingJob(id: $empty) { curve { step } }
        }`,
        {
          short: encodeGlobalID('TrainingJob', short.id),
          empty: encodeGlobalID('TrainingJob', empty.id),
        },
      ),
    );
    expect(data.short.curve.map((p) => p.step)).toEqual(pointRows(short.id, 40).map((p) => p.step));
    expect(data.empty.curve).toEqual([]);
  });

  test.each([
    [{ maxPoints: 1 }, 'maxPoints'],
    [{ maxPoints: 5001 }, 'maxPoints'],
    [{ maxPoints: -3 }, 'maxPoints'],
    [{ maxPoints: 100, fromStep: 10, toStep: 9 }, 'fromStep'],
  ])('%o is refused with BAD_USER_INPUT naming %s', async (args, field) => {
    const result = await app.gql(curveQuery, { id: jobId, ...args });
    expect(codes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors?.[0]?.extensions?.field).toBe(field);
  });
});

/** The runner's statement for a batch of points: a stored step is overwritten, its valLoss kept. */
const upsertPoints = (db: Db, points: readonly MetricPointRow[]) =>
  db
    .insert(metricPoints)
    .values([...points])
    .onConflictDoUpdate({
      target: [metricPoints.jobId, metricPoints.step],
      set: {
        loss: sql`excluded.loss`,
        valLoss: sql`coalesce(excluded.val_loss, ${metricPoints.valLoss})`,
        recordedAt: sql`excluded.recorded_at`,
      },
    });

describe('curve while points are written, rewritten and removed', () => {
  let run: { id: string; globalId: string; points: MetricPointRow[] };

  beforeAll(async () => {
    const job = await newJob(app.database.db, 'changing run');
    run = {
      id: job.id,
      globalId: encodeGlobalID('TrainingJob', job.id),
      points: noisyPointRows(job.id, 3_000, 13),
    };
    await insertPoints(app.database.db, run.points);
  });

  /** The block summaries agree with the points, and so the curve follows the rule exactly. */
  async function expectConsistent() {
    expect(await storedBlocks(app.database.db, run.id)).toEqual(expectedBlocks(run.points));
    for (const maxPoints of [40, 500]) {
      expectShape(await curveOf(run.globalId, maxPoints), run.points, maxPoints);
    }
    const range = run.points.filter((p) => p.step >= 77 && p.step <= 1_234);
    expectShape(await curveOf(run.globalId, 50, { fromStep: 77, toStep: 1_234 }), range, 50);
  }

  test('summaries are kept in the statement that writes the points', async () => {
    await expectConsistent();
    // a rewrite across block boundaries: a spike, a new validation point, a kept one
    const rewritten = run.points
      .filter((p) => p.step >= 90 && p.step <= 170)
      .map((p) => ({
        ...p,
        loss: p.step === 130 ? 50 : p.step === 131 ? null : (p.loss ?? 1) / 2,
        valLoss: p.step === 100 ? 0.01 : null,
      }));
    await upsertPoints(app.database.db, rewritten);
    const byStep = new Map(rewritten.map((p) => [p.step, p]));
    run.points = run.points.map((p) => {
      const next = byStep.get(p.step);
      return next ? { ...next, valLoss: next.valLoss ?? p.valLoss } : p;
    });
    await expectConsistent();
    expect((await curveOf(run.globalId, 40)).map((p) => p.step)).toContain(130);
  });

  test('removing the points after a step (a resumed run) removes or shrinks their blocks', async () => {
    await app.database.db
      .delete(metricPoints)
      .where(and(eq(metricPoints.jobId, run.id), gt(metricPoints.step, 2_500)));
    run.points = run.points.filter((p) => p.step <= 2_500);
    await expectConsistent();
    const appended = noisyPointRows(run.id, 2_540, 13).slice(2_500);
    await upsertPoints(app.database.db, appended);
    run.points = [...run.points, ...appended];
    await expectConsistent();
  });

  test('a write that rolls back leaves the summaries as they were', async () => {
    const more = noisyPointRows(run.id, 2_700, 13).slice(2_540);
    await expect(
      app.database.db.transaction(async (tx) => {
        await upsertPoints(tx, more);
        await tx.execute(sql`select 1 / 0`);
      }),
    ).rejects.toThrow();
    await expectConsistent();
  });

  test('deleting the job deletes its summaries', async () => {
    await app.database.db.delete(trainingJobs).where(eq(trainingJobs.id, run.id));
    expect(await storedBlocks(app.database.db, run.id)).toEqual([]);
  });
});

describe('metricPoints', () => {
  test('pages through every point exactly once, oldest first', async () => {
    const seen: Point[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const data: {
        trainingJob: {
          metricPoints: {
            edges: { cursor: string; node: Point }[];
            pageInfo: { hasNextPage: boolean; endCursor: string | null };
          };
        };
      } = ok(
        await app.gql(
          `query ($id: ID!, $after: String) { trainingJob(id: $id) { metricPoints(after: $after) {
            edges { cursor node { step loss valLoss timestamp } }
            pageInfo { hasNextPage endCursor }
          } } }`,
          { id: jobId, after },
        ),
      );
      const { edges, pageInfo } = data.trainingJob.metricPoints;
      expect(edges.length).toBe(pageInfo.hasNextPage ? 100 : POINTS % 100 || 100);
      seen.push(...edges.map((e) => e.node));
      pages++;
      if (!pageInfo.hasNextPage) break;
      after = pageInfo.endCursor;
    }
    expect(pages).toBe(POINTS / 100);
    expect(seen.map((p) => [p.step, p.loss, p.valLoss])).toEqual(
      rows.map((p) => [p.step, p.loss, p.valLoss]),
    );
  });

  test('a foreign cursor is refused with BAD_USER_INPUT', async () => {
    const result = await app.gql(
      'query ($id: ID!) { trainingJob(id: $id) { metricPoints(first: 5, after: "nope") { edges { cursor } } } }',
      { id: jobId },
    );
    expect(codes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors?.[0]?.extensions?.field).toBe('after');
  });
});
