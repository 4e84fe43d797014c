import { and, asc, desc, eq, inArray, isNotNull, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { type MetricPointRow, metricPoints, trainingJobs } from '../db/schema.ts';

/** How many recent points `TrainingMetrics.lossHistory` and `valLossHistory` carry. */
export const HISTORY_WINDOW = 50;

/**
 * The last `last` points of each job, oldest first; one statement for any number of jobs. Each
 * job's points are read newest first along the (job, step) index and the read stops after
 * `last` of them: a running job has hundreds of thousands, and ranking them all took the
 * embedded database (the API's thread) ~100 ms at 30,000.
 */
export async function lastPointsByJob(
  db: Db,
  jobIds: readonly string[],
  last: number,
  only?: 'withValLoss',
): Promise<Map<string, MetricPointRow[]>> {
  const byJob = new Map<string, MetricPointRow[]>(jobIds.map((id) => [id, []]));
  if (jobIds.length === 0 || last <= 0) return byJob;
  for (const row of await lastPointsQuery(db, jobIds, last, only)) byJob.get(row.jobId)?.push(row);
  return byJob;
}

/** The statement of `lastPointsByJob` (its plan is tested). */
export function lastPointsQuery(
  db: Db,
  jobIds: readonly string[],
  last: number,
  only?: 'withValLoss',
) {
  const recent = db
    .select({
      jobId: metricPoints.jobId,
      step: metricPoints.step,
      epoch: metricPoints.epoch,
      loss: metricPoints.loss,
      valLoss: metricPoints.valLoss,
      learningRate: metricPoints.learningRate,
      recordedAt: metricPoints.recordedAt,
    })
    .from(metricPoints)
    .where(
      and(
        eq(metricPoints.jobId, trainingJobs.id),
        only === 'withValLoss' ? isNotNull(metricPoints.valLoss) : undefined,
      ),
    )
    .orderBy(desc(metricPoints.step))
    .limit(last)
    .as('recent');
  return db
    .select({
      jobId: recent.jobId,
      step: recent.step,
      epoch: recent.epoch,
      loss: recent.loss,
      valLoss: recent.valLoss,
      learningRate: recent.learningRate,
      recordedAt: recent.recordedAt,
    })
    .from(trainingJobs)
    .crossJoinLateral(recent)
    .where(inArray(trainingJobs.id, [...jobIds]))
    .orderBy(asc(recent.jobId), asc(recent.step));
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
