import { and, asc, eq, gt, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { decodeCursor, type Page, type PageArgs, toPage } from '../db/pagination.ts';
import { type MetricPointRow, metricBlocks, metricPoints } from '../db/schema.ts';
import { badInput } from '../vocabulary/errors.ts';

/** `TrainingJob.curve(maxPoints)`: its default and allowed range. */
export const CURVE_MAX_POINTS = { min: 2, max: 5000, default: 500 } as const;

/** A block of `metric_blocks` holds the steps whose `step >> BLOCK_SHIFT` is its number (32 steps). */
const BLOCK_SHIFT = 5;
const BLOCK_STEPS = 2 ** BLOCK_SHIFT;

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
 * So at most 2 + V + 2B (or 2 + 4B) ≤ maxPoints distinct steps, all chosen in one statement that
 * returns only the chosen points, so memory here does not grow with the length of the run.
 * Buckets are runs of consecutive steps, so the statement reads a range as the summaries of its
 * 32-step blocks (`metric_blocks`: each block's validation count and loss and valLoss extremes
 * with their steps, kept by the database with the points), and the points themselves only for
 * blocks that straddle a bucket boundary or an end of the range: about points/32 + 32·(B + 1)
 * rows instead of every point, with exactly the result the rule gives over every point.
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
  const blockOf = (step: SQL) => sql`(${step} >> ${BLOCK_SHIFT}::integer)`;
  const blockStart = (step: SQL) => sql`(${blockOf(step)} << ${BLOCK_SHIFT}::integer)`;
  const bucketOf = (step: SQL) =>
    sql`((${step} - f.lo)::bigint * ${slices}::integer / (f.hi - f.lo + 1)) * f.buckets / ${slices}::integer`;
  const pair = (value: SQL) => sql`case when ${value} is not null then array[${value}, p.step] end`;
  const chosenSteps = sql`
    with bounds as (
      select min(step) as lo, max(step) as hi from ${metricPoints} where ${sql.join(inRange, sql` and `)}
    ), counted as materialized (
      -- V: blocks inside the range count theirs; its first and last block, which the range may
      -- cut, are counted from their points (evaluated once: the frame reads V three times)
      select b.lo, b.hi,
        (select coalesce(sum(k.validations), 0) from ${metricBlocks} k
          where k.job_id = ${jobId}::uuid
            and k.block > ${blockOf(sql`b.lo`)} and k.block < ${blockOf(sql`b.hi`)})
        + (select count(*) from ${metricPoints} p
          where p.job_id = ${jobId}::uuid and p.val_loss is not null
            and p.step between b.lo and least(b.hi, ${blockStart(sql`b.lo`)} + ${BLOCK_STEPS - 1}::integer))
        + (select count(*) from ${metricPoints} p
          where p.job_id = ${jobId}::uuid and p.val_loss is not null
            and ${blockOf(sql`b.hi`)} > ${blockOf(sql`b.lo`)}
            and p.step between ${blockStart(sql`b.hi`)} and b.hi) as v
      from bounds b
    ), frame as (
      select lo, hi, v > ${budget}::integer as thin,
        case when v > ${budget}::integer then ${budget}::integer / 4
             else (${budget}::integer - v)::integer / 2 end as buckets
      from counted
    ), blocks as (
      select k.first_step, k.last_step, k.min_loss, k.max_loss, k.min_val_loss, k.max_val_loss,
        ${bucketOf(sql`k.first_step`)} as bucket,
        k.first_step >= f.lo and k.last_step <= f.hi
          and ${bucketOf(sql`k.first_step`)} = ${bucketOf(sql`k.last_step`)} as whole
      from frame f, ${metricBlocks} k
      where f.buckets > 0 and k.job_id = ${jobId}::uuid
        and k.block between ${blockOf(sql`f.lo`)} and ${blockOf(sql`f.hi`)}
    ), pieces as (
      select bucket, min_loss, max_loss, min_val_loss, max_val_loss from blocks where whole
      union all
      select ${bucketOf(sql`p.step`)}, ${pair(sql`p.loss`)}, ${pair(sql`p.loss`)},
        ${pair(sql`p.val_loss`)}, ${pair(sql`p.val_loss`)}
      from blocks k, frame f, ${metricPoints} p
      where not k.whole and p.job_id = ${jobId}::uuid
        and p.step between greatest(k.first_step, f.lo) and least(k.last_step, f.hi)
    ), buckets as (
      select min(min_loss) as min_loss, max(max_loss) as max_loss,
        min(min_val_loss) as min_val, max(max_val_loss) as max_val
      from pieces group by bucket
    )
    select lo from bounds
    union select hi from bounds
    union select p.step from ${metricPoints} p, frame f
      where not f.thin and p.job_id = ${jobId}::uuid and p.step between f.lo and f.hi
        and p.val_loss is not null
    union select unnest(array[k.min_loss[2], k.max_loss[2]])::integer from buckets k
    union select unnest(array[k.min_val[2], k.max_val[2]])::integer from buckets k, frame f where f.thin`;
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
