import { and, eq, exists, gt } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { checkpoints, type MetricPointRow, metricPoints, trainingJobs } from '../../db/schema.ts';
import { ownedRunning } from './lease.ts';

export type Checkpoint = { step: number; epoch: number; state: Uint8Array };

export async function loadCheckpoint(db: Db, jobId: string): Promise<Checkpoint | undefined> {
  const [row] = await db.select().from(checkpoints).where(eq(checkpoints.jobId, jobId));
  return row ? { step: row.step, epoch: row.epoch, state: row.state } : undefined;
}

export async function saveCheckpoint(db: Db, jobId: string, checkpoint: Checkpoint): Promise<void> {
  await db
    .insert(checkpoints)
    .values({ jobId, ...checkpoint })
    .onConflictDoUpdate({
      target: checkpoints.jobId,
      set: {
        step: checkpoint.step,
        epoch: checkpoint.epoch,
        state: checkpoint.state,
        createdAt: new Date(),
      },
    });
}

/**
 * Points recorded after the checkpoint a run resumes from will be recorded again (the trainer is
 * deterministic), so they go: the history ends up with every step exactly once. Only while
 * `owner` still runs the job: a runner that lost it must not delete its new owner's points.
 */
export async function dropPointsAfter(
  db: Db,
  jobId: string,
  step: number,
  owner: string,
): Promise<void> {
  await db
    .delete(metricPoints)
    .where(
      and(
        eq(metricPoints.jobId, jobId),
        gt(metricPoints.step, step),
        exists(
          db.select({ id: trainingJobs.id }).from(trainingJobs).where(ownedRunning(jobId, owner)),
        ),
      ),
    );
}

/** The stored point of one step of a job. */
export async function pointAt(
  db: Db,
  jobId: string,
  step: number,
): Promise<MetricPointRow | undefined> {
  const [row] = await db
    .select()
    .from(metricPoints)
    .where(and(eq(metricPoints.jobId, jobId), eq(metricPoints.step, step)));
  return row;
}

export async function deleteCheckpoint(db: Db, jobId: string): Promise<void> {
  await db.delete(checkpoints).where(eq(checkpoints.jobId, jobId));
}
