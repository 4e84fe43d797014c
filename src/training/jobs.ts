import { and, eq, inArray, lt, notInArray, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { isUuid } from '../db/ids.ts';
import { decodeCursor, type Page, type PageArgs } from '../db/pagination.ts';
import { newestFirstPage, rowById, rowsByIds } from '../db/rows.ts';
import { type TrainingJobRow, trainingJobs } from '../db/schema.ts';
import { AppError, badInput, ErrorCode, notFound } from '../vocabulary/errors.ts';
import type { ModelType, TrainingStatus } from '../vocabulary/training.ts';
import { type TrainingConfig, trainingConfigSchema } from './config-schema.ts';
import { planJob } from './plan.ts';
import type { Trainer } from './trainers/port.ts';
import { RUNNING_STATUSES, TRANSITIONS, type TransitionAction } from './transitions.ts';

/** Validates a configuration; the first problem becomes BAD_USER_INPUT naming its field. */
export function parseTrainingConfig(input: unknown): TrainingConfig {
  const result = trainingConfigSchema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw badInput(issue?.path.join('.') ?? '', issue?.message ?? 'invalid training configuration');
}

/** Plans the job (refusing states without training data) and queues it with its plan. */
export async function createJob(db: Db, trainer: Trainer, input: unknown): Promise<TrainingJobRow> {
  const { config, plan } = await planJob(db, trainer, parseTrainingConfig(input));
  const [row] = await db
    .insert(trainingJobs)
    .values({ ...config, plan, currentLearningRate: 0 })
    .returning();
  if (!row) throw new Error('insert returned no row');
  return row;
}

export const getJob = (db: Db, id: string): Promise<TrainingJobRow | undefined> =>
  rowById(db, trainingJobs, id);

export const getJobsByIds = (db: Db, ids: readonly string[]): Promise<TrainingJobRow[]> =>
  rowsByIds(db, trainingJobs, ids);

export type JobFilter = PageArgs & {
  status?: readonly TrainingStatus[] | null;
  modelType?: ModelType | null;
};

/** Jobs newest first, keyset-paginated. */
export async function listJobs(db: Db, filter: JobFilter): Promise<Page<TrainingJobRow>> {
  const where: SQL[] = [];
  if (filter.after) where.push(lt(trainingJobs.seq, decodeCursor(filter.after)));
  if (filter.status?.length) where.push(inArray(trainingJobs.status, [...filter.status]));
  if (filter.modelType) where.push(eq(trainingJobs.modelType, filter.modelType));
  return newestFirstPage(db, trainingJobs, where, filter.first);
}

export type JobPatch = Partial<
  Omit<typeof trainingJobs.$inferInsert, 'id' | 'seq' | 'status' | 'createdAt'>
>;

/**
 * Applies a state-machine action as one conditional UPDATE, so that of two racing requests (or
 * servers) exactly one wins; the loser learns the status that beat it.
 */
export async function transitionJob(
  db: Db,
  id: string,
  action: TransitionAction,
  patch: JobPatch = {},
  /** A further condition, e.g. that the runner still holds the lease. */
  also?: SQL,
): Promise<TrainingJobRow> {
  const { from, to } = TRANSITIONS[action];
  if (isUuid(id)) {
    const [row] = await db
      .update(trainingJobs)
      .set({ ...patch, status: to, updatedAt: new Date() })
      .where(and(eq(trainingJobs.id, id), inArray(trainingJobs.status, [...from]), also))
      .returning();
    if (row) return row;
  }
  const current = await getJob(db, id);
  if (!current) throw notFound('training job', id);
  throw new AppError(
    ErrorCode.INVALID_TRANSITION,
    `Cannot ${action} job ${id}: it is ${current.status} (allowed from ${from.join(', ')})`,
  );
}

/** Deletes a job that holds no runner slot; its metric points go with it. */
export async function deleteJob(db: Db, id: string): Promise<string> {
  if (isUuid(id)) {
    const [row] = await db
      .delete(trainingJobs)
      .where(and(eq(trainingJobs.id, id), notInArray(trainingJobs.status, [...RUNNING_STATUSES])))
      .returning({ id: trainingJobs.id });
    if (row) return row.id;
  }
  const current = await getJob(db, id);
  if (!current) throw notFound('training job', id);
  throw new AppError(
    ErrorCode.CONFLICT,
    `Cannot delete job ${id} while it is ${current.status}: pause or cancel it first`,
  );
}

/** 1-based places in the queue of QUEUED jobs (oldest first); other jobs are absent. */
export async function queuePositions(
  db: Db,
  jobIds: readonly string[],
): Promise<Map<string, number>> {
  const ids = jobIds.filter(isUuid);
  if (ids.length === 0) return new Map();
  const queued = db
    .select({
      id: trainingJobs.id,
      position: sql<number>`row_number() over (order by ${trainingJobs.seq})`
        .mapWith(Number)
        .as('position'),
    })
    .from(trainingJobs)
    .where(eq(trainingJobs.status, 'QUEUED'))
    .as('queued');
  const rows = await db.select().from(queued).where(inArray(queued.id, ids));
  return new Map(rows.map((row) => [row.id, row.position]));
}
