import { and, asc, eq, gt, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { decodeCursor, type Page, type PageArgs, toPage } from '../db/pagination.ts';
import { type MetricPointRow, metricPoints } from '../db/schema.ts';
import { badInput } from '../vocabulary/errors.ts';

/** `TrainingJob.curve(maxPoints)`: its default and allowed range. */
export const CURVE_MAX_POINTS = { min: 2, max: 5000, default: 500 } as const;

export type CurveArgs = { maxPoints: number; fromStep?: number | null; toStep?: number | null };

/**
 * A curve of at most `maxPoints` points that keeps the shape of a job's run (or of the step range
 * `fromStep..toStep`), oldest first, steps strictly increasing. The rule:
 *
 * - The first and the last point of the range are always in.
 * - The steps from first to last are cut into S = maxPoints - 2 slices of equal width
 *   (slice = ⌊(step - first) · S / (last - first + 1)⌋).
 * - When the range's V validation points (valLoss not null) fit, V ≤ maxPoints - 2, every one is
 *   in, and the budget left forms B = ⌊(maxPoints - 2 - V) / 2⌋ buckets of consecutive slices
 *   (bucket = ⌊slice · B / S⌋), each keeping its lowest- and highest-loss point.
 * - Otherwise the validation points are thinned like the training loss: B = ⌊(maxPoints - 2) / 4⌋
 *   buckets each keep their lowest- and highest-loss point and their lowest- and
 *   highest-valLoss point.
 *
 * So at most 2 + V + 2B (or 2 + 4B) ≤ maxPoints distinct steps. One statement: the points of the
 * range are read once, grouped into at most S slices inside the database, and only the chosen
 * steps come back, so memory here does not grow with the length of the run. Slices are fixed
 * before V is known; buckets are unions of slices, so their extremes follow from the slices'.
 */
export async function curve(db: Db, jobId: string, args: CurveArgs): Promise<MetricPointRow[]> {
  const { maxPoints, fromStep, toStep } = args;
  if (
    !Number.isInteger(maxPoints) ||
    maxPoints < CURVE_MAX_POINTS.min ||
    maxPoints > CURVE_MAX_POINTS.max
  ) {
    throw badInput(
      'maxPoints',
      `maxPoints must be between ${CURVE_MAX_POINTS.min} and ${CURVE_MAX_POINTS.max}`,
    );
  }
  if (fromStep != null && toStep != null && fromStep > toStep) {
    throw badInput('fromStep', 'fromStep must not be greater than toStep');
  }
  const inRange: SQL[] = [sql`job_id = ${jobId}::uuid`];
  if (fromStep != null) inRange.push(sql`step >= ${fromStep}::integer`);
  if (toStep != null) inRange.push(sql`step <= ${toStep}::integer`);
  const slices = Math.max(maxPoints - 2, 1);
  const budget = maxPoints - 2;
  const chosenSteps = sql`
    with bounds as (
      select min(step) as lo, max(step) as hi from ${metricPoints} where ${sql.join(inRange, sql` and `)}
    ), slices as (
      select
        (p.step - b.lo)::bigint * ${slices}::integer / (b.hi - b.lo + 1) as slice,
        min(array[p.loss, p.step]) filter (where p.loss is not null) as min_loss,
        max(array[p.loss, p.step]) filter (where p.loss is not null) as max_loss,
        min(array[p.val_loss, p.step]) filter (where p.val_loss is not null) as min_val,
        max(array[p.val_loss, p.step]) filter (where p.val_loss is not null) as max_val,
        count(p.val_loss) as vals
      from ${metricPoints} p, bounds b
      where p.job_id = ${jobId}::uuid and p.step between b.lo and b.hi
      group by 1
    ), plan as (
      select v > ${budget}::integer as thin,
        case when v > ${budget}::integer then ${budget}::integer / 4
             else (${budget}::integer - v) / 2 end as buckets
      from (select coalesce(sum(vals), 0)::integer as v from slices) counted
    ), buckets as (
      select min(s.min_loss) as min_loss, max(s.max_loss) as max_loss,
        min(s.min_val) as min_val, max(s.max_val) as max_val
      from slices s, plan
      where plan.buckets > 0
      group by s.slice * plan.buckets / ${slices}::integer
    )
    select lo from bounds
    union select hi from bounds
    union select p.step from ${metricPoints} p, bounds b, plan
      where not plan.thin and p.job_id = ${jobId}::uuid and p.step between b.lo and b.hi
        and p.val_loss is not null
    union select unnest(array[k.min_loss[2], k.max_loss[2]])::integer from buckets k
    union select unnest(array[k.min_val[2], k.max_val[2]])::integer from buckets k, plan where plan.thin`;
  return db
    .select()
    .from(metricPoints)
    .where(
      and(eq(metricPoints.jobId, jobId), sql`${metricPoints.step} = any(array(${chosenSteps}))`),
    )
    .orderBy(asc(metricPoints.step));
}

/** Every point of a job, oldest first, keyset-paginated by step (the cursor encodes the step). */
export async function listMetricPoints(
  db: Db,
  jobId: string,
  page: PageArgs,
): Promise<Page<MetricPointRow>> {
  const rows = await db
    .select()
    .from(metricPoints)
    .where(
      and(
        eq(metricPoints.jobId, jobId),
        page.after ? gt(metricPoints.step, decodeCursor(page.after)) : undefined,
      ),
    )
    .orderBy(asc(metricPoints.step))
    .limit(page.first + 1);
  return toPage(rows, page.first);
}
