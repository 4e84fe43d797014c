import { and, asc, inArray, isNotNull, lte, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { type MetricPointRow, metricPoints } from '../db/schema.ts';

/** How many recent points `TrainingMetrics.lossHistory` and `valLossHistory` carry. */
export const HISTORY_WINDOW = 50;

/** The last `last` points of each job, oldest first; one statement for any number of jobs. */
export async function lastPointsByJob(
  db: Db,
  jobIds: readonly string[],
  last: number,
  only?: 'withValLoss',
): Promise<Map<string, MetricPointRow[]>> {
  const byJob = new Map<string, MetricPointRow[]>(jobIds.map((id) => [id, []]));
  if (jobIds.length === 0 || last <= 0) return byJob;
  const ranked = db
    .select({
      jobId: metricPoints.jobId,
      step: metricPoints.step,
      epoch: metricPoints.epoch,
      loss: metricPoints.loss,
      valLoss: metricPoints.valLoss,
      learningRate: metricPoints.learningRate,
      recordedAt: metricPoints.recordedAt,
      rank: sql<number>`row_number() over (partition by ${metricPoints.jobId} order by ${metricPoints.step} desc)`.as(
        'rank',
      ),
    })
    .from(metricPoints)
    .where(
      and(
        inArray(metricPoints.jobId, [...jobIds]),
        only === 'withValLoss' ? isNotNull(metricPoints.valLoss) : undefined,
      ),
    )
    .as('ranked');
  const rows = await db
    .select({
      jobId: ranked.jobId,
      step: ranked.step,
      epoch: ranked.epoch,
      loss: ranked.loss,
      valLoss: ranked.valLoss,
      learningRate: ranked.learningRate,
      recordedAt: ranked.recordedAt,
    })
    .from(ranked)
    .where(lte(ranked.rank, last))
    .orderBy(asc(ranked.jobId), asc(ranked.step));
  for (const row of rows) byJob.get(row.jobId)?.push(row);
  return byJob;
}

export type LossHistories = { lossHistory: number[]; valLossHistory: number[] };

/** The recent loss and validation-loss curves of each job (two statements in all). */
export async function lossHistoriesByJob(
  db: Db,
  jobIds: readonly string[],
): Promise<Map<string, LossHistories>> {
  const [all, evals] = await Promise.all([
    lastPointsByJob(db, jobIds, HISTORY_WINDOW),
    lastPointsByJob(db, jobIds, HISTORY_WINDOW, 'withValLoss'),
  ]);
  return new Map(
    jobIds.map((id) => [
      id,
      {
        lossHistory: (all.get(id) ?? []).flatMap((p) => (p.loss === null ? [] : [p.loss])),
        valLossHistory: (evals.get(id) ?? []).flatMap((p) =>
          p.valLoss === null ? [] : [p.valLoss],
        ),
      },
    ]),
  );
}

/** Points of one job after a step, oldest first (for replaying to a reconnecting client). */
export async function pointsAfter(
  db: Db,
  jobId: string,
  afterStep: number,
): Promise<MetricPointRow[]> {
  return db
    .select()
    .from(metricPoints)
    .where(and(inArray(metricPoints.jobId, [jobId]), sql`${metricPoints.step} > ${afterStep}`))
    .orderBy(asc(metricPoints.step));
}
