import { count, desc, inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { type TrainingJobRow, trainingJobs } from '../db/schema.ts';
import { countModelVersions } from './model-versions.ts';
import { RUNNING_STATUSES } from './transitions.ts';

export type SystemStatus = {
  isTraining: boolean;
  activeJob: TrainingJobRow | null;
  totalJobs: number;
  completedJobs: number;
  failedJobs: number;
  queuedJobs: number;
  runningJobs: number;
  modelVersions: number;
  activeModels: number;
};

const countWhere = (status: string) =>
  sql<number>`count(*) filter (where ${trainingJobs.status} = ${status})`.mapWith(Number);

export async function readSystemStatus(db: Db): Promise<SystemStatus> {
  const [[jobs], [activeJob], versions] = await Promise.all([
    db
      .select({
        total: count(),
        completed: countWhere('COMPLETED'),
        failed: countWhere('FAILED'),
        queued: countWhere('QUEUED'),
        running:
          sql<number>`count(*) filter (where ${inArray(trainingJobs.status, [...RUNNING_STATUSES])})`.mapWith(
            Number,
          ),
      })
      .from(trainingJobs),
    db
      .select()
      .from(trainingJobs)
      .where(inArray(trainingJobs.status, [...RUNNING_STATUSES]))
      .orderBy(desc(trainingJobs.seq))
      .limit(1),
    countModelVersions(db),
  ]);
  return {
    isTraining: (jobs?.running ?? 0) > 0,
    activeJob: activeJob ?? null,
    totalJobs: jobs?.total ?? 0,
    completedJobs: jobs?.completed ?? 0,
    failedJobs: jobs?.failed ?? 0,
    queuedJobs: jobs?.queued ?? 0,
    runningJobs: jobs?.running ?? 0,
    modelVersions: versions.total,
    activeModels: versions.active,
  };
}

/**
 * The status is read on every dashboard refresh but changes only when a job or version does:
 * keep one snapshot, drop it on every change event, and re-read at most every `maxAgeMs` so
 * changes made by other processes show up too. Concurrent readers share one read.
 */
export class SystemStatusCache {
  #snapshot: Snapshot | null = null;

  constructor(
    private readonly db: Db,
    private readonly maxAgeMs = 1000,
  ) {}

  get(): Promise<SystemStatus> {
    const now = Date.now();
    if (!this.#snapshot || now - this.#snapshot.at > this.maxAgeMs) {
      const value = readSystemStatus(this.db);
      const snapshot: Snapshot = { value, at: now };
      this.#snapshot = snapshot;
      value.then(
        (status) => {
          snapshot.activeJobId = status.activeJob?.id ?? null;
        },
        () => {
          if (this.#snapshot === snapshot) this.#snapshot = null;
        },
      );
    }
    return this.#snapshot.value;
  }

  invalidate(): void {
    this.#snapshot = null;
  }

  /** A job's progress was stored: of all the jobs, the snapshot holds only the active one's row. */
  progressed(jobId: string): void {
    const activeJobId = this.#snapshot?.activeJobId;
    if (activeJobId === undefined || activeJobId === jobId) this.#snapshot = null;
  }
}

type Snapshot = {
  value: Promise<SystemStatus>;
  at: number;
  /** Set once the read is done; until then the snapshot may hold any job. */
  activeJobId?: string | null;
};

/** How many jobs are in each status (statuses without jobs left out). */
export async function jobsByStatus(db: Db): Promise<Array<{ status: string; jobs: number }>> {
  return db
    .select({ status: trainingJobs.status, jobs: count() })
    .from(trainingJobs)
    .groupBy(trainingJobs.status);
}
