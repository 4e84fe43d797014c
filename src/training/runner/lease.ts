import { and, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { type TrainingJobRow, trainingJobs } from '../../db/schema.ts';
import { RUNNING_STATUSES, TRANSITIONS } from '../transitions.ts';

const leaseUntil = (leaseMs: number) => sql`now() + ${`${leaseMs} milliseconds`}::interval`;

/**
 * The row `pick` selects, as `id = (subquery)`: a scalar subquery runs once per statement (an
 * InitPlan). As `id IN (subquery)` PostgreSQL may plan a nested-loop semi join that re-runs the
 * subquery for every candidate row; each re-run skips the rows this statement already locked
 * and returns the next one, so one statement took (and leased) every candidate job.
 */
const theOne = (pick: SQL) => sql`${trainingJobs.id} = (${pick})`;

/**
 * A job this process took. A claim also returns the QUEUED row it replaced: a pause and resume
 * are announced after their commit, so the claim that followed may reach the bus first, and
 * announcing that row before the claim keeps QUEUED in every open stream (CONTRACT.md, "Live
 * progress": every status appears). The late announcement then finds an older snapshot.
 */
export type TakenJob = { job: TrainingJobRow; queued?: TrainingJobRow };

/**
 * Takes the oldest QUEUED job (QUEUED -> PREPARING, the table's `claim`) with a lease for this
 * process. SKIP LOCKED lets several processes claim concurrently without waiting or colliding.
 */
export async function claimQueuedJob(
  db: Db,
  owner: string,
  leaseMs: number,
): Promise<Required<TakenJob> | undefined> {
  const { from, to } = TRANSITIONS.claim;
  return db.transaction(async (tx) => {
    const [queued] = await tx
      .select()
      .from(trainingJobs)
      .where(inArray(trainingJobs.status, [...from]))
      .orderBy(trainingJobs.seq)
      .limit(1)
      .for('update', { skipLocked: true });
    if (!queued) return undefined;
    const [job] = await tx
      .update(trainingJobs)
      .set({
        status: to,
        leaseOwner: owner,
        leaseExpiresAt: leaseUntil(leaseMs),
        startedAt: sql`coalesce(${trainingJobs.startedAt}, now())`,
        errorMessage: null,
        updatedAt: new Date(),
      })
      .where(eq(trainingJobs.id, queued.id))
      .returning();
    return job && { job, queued };
  });
}

/**
 * Takes over a running job whose owner stopped renewing its lease (crashed or cut off). Its
 * status does not change: the new owner continues it from its last checkpoint.
 */
export async function adoptOrphanedJob(
  db: Db,
  owner: string,
  leaseMs: number,
): Promise<TrainingJobRow | undefined> {
  const orphan = db
    .select({ id: trainingJobs.id })
    .from(trainingJobs)
    .where(
      and(
        inArray(trainingJobs.status, [...RUNNING_STATUSES]),
        sql`${trainingJobs.leaseExpiresAt} < now()`,
      ),
    )
    .orderBy(trainingJobs.seq)
    .limit(1)
    .for('update', { skipLocked: true });
  const [row] = await db
    .update(trainingJobs)
    .set({ leaseOwner: owner, leaseExpiresAt: leaseUntil(leaseMs), updatedAt: new Date() })
    .where(and(theOne(orphan.getSQL()), sql`${trainingJobs.leaseExpiresAt} < now()`))
    .returning();
  return row;
}

/** Renews the lease; undefined when this process no longer runs the job (paused, cancelled, taken). */
export async function renewLease(
  db: Db,
  jobId: string,
  owner: string,
  leaseMs: number,
): Promise<TrainingJobRow | undefined> {
  const [row] = await db
    .update(trainingJobs)
    .set({ leaseExpiresAt: leaseUntil(leaseMs) })
    .where(ownedRunning(jobId, owner))
    .returning();
  return row;
}

/** Lets another process adopt the job at once (this one is shutting down). */
export async function releaseLease(db: Db, jobId: string, owner: string): Promise<void> {
  await db
    .update(trainingJobs)
    .set({ leaseExpiresAt: sql`now() - interval '1 second'` })
    .where(and(eq(trainingJobs.id, jobId), eq(trainingJobs.leaseOwner, owner)));
}

/** The job is still this process's to run. */
export const ownedRunning = (jobId: string, owner: string) =>
  and(
    eq(trainingJobs.id, jobId),
    eq(trainingJobs.leaseOwner, owner),
    inArray(trainingJobs.status, [...RUNNING_STATUSES]),
  );
