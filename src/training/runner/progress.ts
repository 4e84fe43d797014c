import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import {
  type MetricPointRow,
  metricPoints,
  type TrainingJobRow,
  trainingJobs,
} from '../../db/schema.ts';
import { type AppEvents, announceProgress } from '../../events/topics.ts';
import type { EvalMetrics, TrainerEvent } from '../trainer/types.ts';
import { ownedRunning } from './lease.ts';

type StepEvent = Extract<TrainerEvent, { type: 'step' }>;
type EvalEvent = Extract<TrainerEvent, { type: 'eval' }>;

/** The runner no longer owns the job: it was paused, cancelled, deleted or adopted elsewhere. */
export class JobLostError extends Error {
  constructor(jobId: string) {
    super(`job ${jobId} is no longer run by this process`);
  }
}

/**
 * Collects a job's progress and metric points in memory and writes them in batches (at most one
 * write per `flushIntervalMs`, however fast the trainer steps), each batch announced on the bus
 * with the points it added. Writes are conditional on the lease, so a process that lost the job
 * learns it at its next write.
 */
export class ProgressRecorder {
  readonly #pending = new Map<number, MetricPointRow>();
  #last: MetricPointRow | null = null;
  #fields: Partial<typeof trainingJobs.$inferInsert> = {};
  #totalSteps = 0;
  #sessionStart = Date.now();
  #sessionFirstStep = 0;
  #timer: NodeJS.Timeout | null = null;
  #flushing: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly events: AppEvents,
    private readonly job: TrainingJobRow,
    private readonly owner: string,
    private readonly flushIntervalMs: number,
  ) {}

  /**
   * The stored point of the step a run resumes from. An evaluation that follows it (a checkpoint
   * taken between an epoch's last step and its evaluation) joins that point.
   */
  resumesAfter(point: MetricPointRow | undefined): void {
    this.#last = point ?? null;
  }

  prepared(totalSteps: number, resumedFromStep: number, totalDocuments: number): void {
    this.#totalSteps = totalSteps;
    this.#sessionStart = Date.now();
    this.#sessionFirstStep = resumedFromStep;
    this.#fields = { ...this.#fields, totalSteps, totalDocuments, currentStep: resumedFromStep };
  }

  step(event: StepEvent, totalDocuments: number): void {
    const point: MetricPointRow = {
      jobId: this.job.id,
      step: event.step,
      epoch: event.epoch,
      loss: event.loss,
      valLoss: null,
      learningRate: event.learningRate,
      recordedAt: new Date(),
    };
    this.#pending.set(event.step, point);
    this.#last = point;
    const fraction = this.#totalSteps ? event.step / this.#totalSteps : 0;
    const done = event.step - this.#sessionFirstStep;
    const perStepMs = done > 0 ? (Date.now() - this.#sessionStart) / done : 0;
    this.#fields = {
      ...this.#fields,
      currentStep: event.step,
      currentEpoch: event.epoch,
      loss: event.loss,
      currentLearningRate: event.learningRate,
      progress: Math.min(100, fraction * 100),
      documentsProcessed: Math.round(fraction * totalDocuments),
      estimatedCompletion:
        perStepMs > 0 ? new Date(Date.now() + perStepMs * (this.#totalSteps - event.step)) : null,
    };
    this.#schedule();
  }

  /** An evaluation belongs to the step it ran after: its validation loss joins that point. */
  evaluation(event: EvalEvent): void {
    const base =
      this.#pending.get(event.step) ?? (this.#last?.step === event.step ? this.#last : null);
    if (base) {
      const point = { ...base, valLoss: event.valLoss };
      this.#pending.set(event.step, point);
      this.#last = point;
    }
    this.#fields = { ...this.#fields, valLoss: event.valLoss, ...metricsFields(event) };
    this.#schedule();
  }

  /**
   * Writes everything pending now; `alsoInTransaction` joins the same transaction (a checkpoint
   * must never be stored ahead of the points it covers).
   */
  flush(
    alsoInTransaction?: (tx: Db) => Promise<void>,
    { whilePaused = false }: { whilePaused?: boolean } = {},
  ): Promise<TrainingJobRow> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const write = this.#flushing.then(() => this.#write(alsoInTransaction, whilePaused));
    this.#flushing = write.catch(() => {});
    return write;
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #schedule(): void {
    this.#timer ??= setTimeout(() => {
      this.#timer = null;
      this.flush().catch(() => {
        // the run loop notices a lost job on its own next write; nothing to report twice
      });
    }, this.flushIntervalMs);
  }

  async #write(
    alsoInTransaction: ((tx: Db) => Promise<void>) | undefined,
    whilePaused: boolean,
  ): Promise<TrainingJobRow> {
    const points = [...this.#pending.values()];
    const fields = this.#fields;
    this.#pending.clear();
    const row = await this.#transaction(points, async (tx) => {
      if (points.length > 0) await insertPoints(tx, this.job.id, points);
      const [updated] = await tx
        .update(trainingJobs)
        .set({ ...fields, updatedAt: new Date() })
        .where(
          whilePaused
            ? and(eq(trainingJobs.id, this.job.id), eq(trainingJobs.leaseOwner, this.owner))
            : ownedRunning(this.job.id, this.owner),
        )
        .returning();
      if (!updated) throw new JobLostError(this.job.id);
      await alsoInTransaction?.(tx);
      return updated;
    });
    announceProgress(this.events, row, points);
    return row;
  }

  /**
   * Runs the write; if it fails, its points go back in front of those recorded meanwhile (a
   * newer version of a step wins), so that a later write (a pause checkpoint after a flush that
   * found the job already PAUSED, say) still stores every point up to its step.
   */
  async #transaction(
    points: MetricPointRow[],
    write: (tx: Db) => Promise<TrainingJobRow>,
  ): Promise<TrainingJobRow> {
    try {
      return await this.db.transaction(write);
    } catch (error) {
      const newer = [...this.#pending.values()];
      this.#pending.clear();
      for (const point of [...points, ...newer]) this.#pending.set(point.step, point);
      throw error;
    }
  }
}

/** A Postgres array literal; numbers print exactly (shortest round-trip digits). */
const arrayLiteral = (values: readonly (number | string | null)[]) =>
  `{${values.map((v) => (v === null ? 'NULL' : `"${v}"`)).join(',')}}`;

/**
 * Stores a batch of points (a step already stored is overwritten; a validation loss is kept)
 * as one statement over column arrays: a few parameters however large the batch, where a
 * VALUES row per point costs the server's main thread several times as much to build and to
 * run (on PGlite the database runs on that thread too).
 */
function insertPoints(tx: Db, jobId: string, points: readonly MetricPointRow[]) {
  const column = <T extends number | string | null>(pick: (p: MetricPointRow) => T) =>
    arrayLiteral(points.map(pick));
  return tx.execute(sql`
    insert into ${metricPoints} (job_id, step, epoch, loss, val_loss, learning_rate, recorded_at)
    select ${jobId}::uuid, p.step, p.epoch, p.loss, p.val_loss, p.learning_rate, p.recorded_at
    from unnest(
      ${column((p) => p.step)}::integer[],
      ${column((p) => p.epoch)}::integer[],
      ${column((p) => p.loss)}::double precision[],
      ${column((p) => p.valLoss)}::double precision[],
      ${column((p) => p.learningRate)}::double precision[],
      ${column((p) => p.recordedAt.toISOString())}::timestamptz[]
    ) as p(step, epoch, loss, val_loss, learning_rate, recorded_at)
    on conflict (job_id, step) do update set
      epoch = excluded.epoch,
      loss = excluded.loss,
      val_loss = coalesce(excluded.val_loss, ${metricPoints}.val_loss),
      learning_rate = excluded.learning_rate,
      recorded_at = excluded.recorded_at`);
}

export const metricsFields = (m: EvalMetrics) => ({
  precision: m.precision,
  recall: m.recall,
  f1Score: m.f1,
  accuracy: m.accuracy,
});
