import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import {
  type MetricPointRow,
  metricPoints,
  type TrainingJobRow,
  trainingJobs,
} from '../../db/schema.ts';
import { type AppEvents, announceJob, announceProgress } from '../../events/topics.ts';
import { type JobPatch, transitionJob } from '../jobs.ts';
import type { EvalMetrics, TrainerEvent } from '../trainers/builtin/types.ts';
import type { TransitionAction } from '../transitions.ts';
import { ownedRunning } from './lease.ts';

type StepEvent = Extract<TrainerEvent, { type: 'step' }>;
type EvalEvent = Extract<TrainerEvent, { type: 'eval' }>;

/** The runner no longer owns the job: it was paused, cancelled, deleted or adopted elsewhere. */
export class JobLostError extends Error {
  constructor(jobId: string) {
    super(`job ${jobId} is no longer run by this process`);
  }
}

export type FlushOptions = {
  /** The newest point is final too: a checkpoint at its step or the end of the run follows. */
  final?: boolean;
  /** The job's status changes in the same UPDATE (its progress fields with it). */
  transition?: TransitionAction;
  /** Joins the transaction: a checkpoint is never stored ahead of the points it covers. */
  alsoInTransaction?: (tx: Db) => Promise<void>;
  /** The job may be PAUSED already (the checkpoint that answers a pause). */
  whilePaused?: boolean;
  /** A timed write: when it was due (the next one counts from then). */
  due?: number;
};

/**
 * Collects a job's progress and metric points in memory and writes them in batches (one write
 * per `flushIntervalMs`, however fast the trainer steps), each batch announced on the bus
 * with the points it added. Writes are conditional on the lease, so a process that lost the job
 * learns it at its next write.
 *
 * A point is announced once, when it is final: the newest point waits (neither written nor
 * announced) until a later step, a checkpoint or the end of the run, since an evaluation of its
 * step may still join it. An evaluation of a point already final updates the stored point and
 * the job, but the point is not announced again.
 */
export class ProgressRecorder {
  /** Final points not yet written, by step. */
  readonly #pending = new Map<number, MetricPointRow>();
  /** The newest point, while an evaluation may still join it. */
  #newest: MetricPointRow | null = null;
  /** The last final point: a late evaluation of its step corrects it. */
  #lastFinal: MetricPointRow | null = null;
  /** Points announced already whose stored version changes (written, not announced). */
  readonly #corrections = new Map<number, MetricPointRow>();
  #fields: JobPatch = {};
  #totalSteps = 0;
  #sessionStart = Date.now();
  #sessionFirstStep = 0;
  #lastStep = 0;
  #timer: NodeJS.Timeout | null = null;
  /**
   * When the last write was asked for, or was due if its timer fired late: the next timed one
   * waits out the rest of the interval.
   */
  #lastFlushAt = Date.now();
  #flushing: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly events: AppEvents,
    private readonly job: TrainingJobRow,
    private readonly owner: string,
    private readonly flushIntervalMs: number,
  ) {}

  /**
   * The stored point of the step a run resumes from: final and announced. An evaluation that
   * follows it (a trainer that checkpointed between a step and its evaluation) corrects it.
   */
  resumesAfter(point: MetricPointRow | undefined): void {
    this.#lastFinal = point ?? null;
  }

  /** The run's plan is known: the next write (a transition to TRAINING, say) records it. */
  prepared(totalSteps: number, resumedFromStep: number, totalDocuments: number): void {
    this.#totalSteps = totalSteps;
    this.#sessionStart = Date.now();
    this.#sessionFirstStep = resumedFromStep;
    this.#lastStep = resumedFromStep;
    this.#fields = { ...this.#fields, totalSteps, totalDocuments, currentStep: resumedFromStep };
  }

  /** Steps per second since this process started (or resumed) the run. */
  stepsPerSecond(): number {
    const seconds = (Date.now() - this.#sessionStart) / 1000;
    return seconds > 0 ? (this.#lastStep - this.#sessionFirstStep) / seconds : 0;
  }

  step(event: StepEvent, totalDocuments: number): void {
    this.#finalizeNewest();
    this.#lastStep = event.step;
    this.#newest = {
      jobId: this.job.id,
      step: event.step,
      epoch: event.epoch,
      loss: event.loss,
      valLoss: null,
      learningRate: event.learningRate,
      recordedAt: new Date(),
    };
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
    const { step, valLoss } = event;
    if (this.#newest?.step === step) {
      this.#newest = { ...this.#newest, valLoss };
    } else if (this.#lastFinal?.step === step) {
      const point = { ...this.#lastFinal, valLoss };
      this.#lastFinal = point;
      if (this.#pending.has(step)) this.#pending.set(step, point);
      else this.#corrections.set(step, point);
    }
    this.#fields = { ...this.#fields, valLoss, ...metricsFields(event) };
    this.#schedule();
  }

  /**
   * Writes everything pending now (the newest point too if `final`) and announces the job with
   * the points that became final.
   */
  flush(options: FlushOptions = {}): Promise<TrainingJobRow> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#lastFlushAt = options.due ?? Date.now();
    if (options.final) this.#finalizeNewest();
    const write = this.#flushing.then(() => this.#write(options));
    this.#flushing = write.catch(() => {});
    return write;
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #finalizeNewest(): void {
    const point = this.#newest;
    if (!point) return;
    this.#newest = null;
    this.#pending.set(point.step, point);
    this.#lastFinal = point;
  }

  /**
   * The interval counts from the last write, not from the first step after it: when steps pause
   * (the trainer's thread starved of CPU for a moment, say), the step that ends the pause is
   * not held back a whole interval more. A timer that fires late (the event loop busy with a
   * fan-out to thousands of streams) does not delay the next one: the writes keep their cadence.
   */
  #schedule(): void {
    if (this.#timer) return;
    const due = Math.max(Date.now(), this.#lastFlushAt + this.flushIntervalMs);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.flush({ due }).catch(() => {
        // the run loop notices a lost job on its own next write; nothing to report twice
      });
    }, due - Date.now());
  }

  async #write({
    transition,
    alsoInTransaction,
    whilePaused = false,
  }: FlushOptions): Promise<TrainingJobRow> {
    const points = [...this.#pending.values()];
    const corrections = [...this.#corrections.values()];
    const fields = this.#fields;
    this.#pending.clear();
    this.#corrections.clear();
    this.#fields = {};
    const row = await this.#transaction(points, corrections, fields, async (tx) => {
      const stored = [...points, ...corrections];
      if (stored.length > 0) await insertPoints(tx, this.job.id, stored);
      const owned = whilePaused
        ? and(eq(trainingJobs.id, this.job.id), eq(trainingJobs.leaseOwner, this.owner))
        : ownedRunning(this.job.id, this.owner);
      const updated = transition
        ? await transitionJob(tx, this.job.id, transition, fields, owned)
        : (
            await tx
              .update(trainingJobs)
              .set({ ...fields, updatedAt: new Date() })
              .where(owned)
              .returning()
          )[0];
      if (!updated) throw new JobLostError(this.job.id);
      await alsoInTransaction?.(tx);
      return updated;
    });
    // A status change is news for every `jobs` listener; progress only for this job's.
    (transition ? announceJob : announceProgress)(this.events, row, points);
    return row;
  }

  /**
   * Runs the write; if it fails, what it would have written goes back in front of what was
   * recorded meanwhile (a newer version of a step or field wins), so that a later write (a
   * pause checkpoint after a flush that found the job already PAUSED, say) still stores every
   * point up to its step.
   */
  async #transaction(
    points: MetricPointRow[],
    corrections: MetricPointRow[],
    fields: JobPatch,
    write: (tx: Db) => Promise<TrainingJobRow>,
  ): Promise<TrainingJobRow> {
    try {
      return await this.db.transaction(write);
    } catch (error) {
      restoreInFront(this.#pending, points);
      restoreInFront(this.#corrections, corrections);
      this.#fields = { ...fields, ...this.#fields };
      throw error;
    }
  }
}

/** Puts `points` back into `map` before the points it holds now, which win on the same step. */
function restoreInFront(map: Map<number, MetricPointRow>, points: MetricPointRow[]): void {
  const newer = [...map.values()];
  map.clear();
  for (const point of [...points, ...newer]) map.set(point.step, point);
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
