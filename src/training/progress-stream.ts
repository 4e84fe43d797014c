import type { Db } from '../db/client.ts';
import type { MetricPointRow, TrainingJobRow } from '../db/schema.ts';
import type { PushSink, PushSource } from '../events/push-source.ts';
import type { JobEvent } from '../events/topics.ts';
import { badInput, notFound } from '../vocabulary/errors.ts';
import { readWatchedJob } from './batched-job-reads.ts';
import { pointsAfter } from './metrics.ts';
import {
  eventAfter,
  isJobDeleted,
  type JobDeleted,
  type JobFeeds,
  memoByPair,
  newerJob,
  StatusBatches,
} from './progress-feed.ts';
import { isTerminal } from './transitions.ts';

/** What a watch yields: updates, and, if the job is deleted, that as the last item. */
export type ProgressItem = TrainingProgress | JobDeleted;

/** One update of a watched job. */
export type TrainingProgress = {
  job: TrainingJobRow;
  /** Since the job started (until it ended, once it has); 0 before it started. */
  elapsedTimeMs: number;
  /** Until the estimated completion, never below 0; null while there is no estimate. */
  estimatedRemainingMs: number | null;
  /** Points recorded since the previous update, oldest first. */
  newPoints: MetricPointRow[];
};

export type WatchOptions = {
  /** Replay the stored points after this step in the first update (none when absent). */
  afterStep?: number | null;
  /** Aborting ends the stream like `return()`. */
  signal?: AbortSignal;
  now?: () => number;
};

// GraphQL's Int is 32 bits; a duration beyond ~24.8 days is reported as that.
const MAX_INT = 2 ** 31 - 1;

export function toProgress({ job, newPoints }: JobEvent, now: number): TrainingProgress {
  const started = job.startedAt?.getTime();
  const ended = job.completedAt?.getTime() ?? now;
  const estimate = job.estimatedCompletion?.getTime();
  return {
    job,
    elapsedTimeMs: started === undefined ? 0 : Math.min(MAX_INT, Math.max(0, ended - started)),
    estimatedRemainingMs:
      estimate === undefined ? null : Math.min(MAX_INT, Math.max(0, estimate - now)),
    newPoints,
  };
}

/** The first read of a job in each epoch of its feed (JobFeeds.epochOf), gone with the epoch. */
const epochReads = new WeakMap<object, Promise<TrainingJobRow | undefined>>();

/**
 * The job's row for a watcher that listens already: the read that a watcher attached in the same
 * epoch sent, if any, as no event of the job came since it was sent (a crowd subscribing at
 * once, as when every dashboard reconnects, costs one query and gets one row object, so its
 * first updates are executed once too); otherwise a read sent now.
 */
function readForWatcher(
  db: Db,
  feeds: JobFeeds,
  jobId: string,
): Promise<TrainingJobRow | undefined> {
  const epoch = feeds.epochOf(jobId);
  const shared = epoch && epochReads.get(epoch);
  if (shared) return shared;
  const read = readWatchedJob(db, jobId);
  if (epoch) {
    epochReads.set(epoch, read);
    read.catch(() => epochReads.delete(epoch));
  }
  return read;
}

const shared = new WeakMap<JobEvent, TrainingProgress>();
const firstEvents = new WeakMap<TrainingJobRow, JobEvent>();

/** The first event of watchers that read the same row and replay nothing: one for all. */
function sharedFirstEvent(job: TrainingJobRow): JobEvent {
  let event = firstEvents.get(job);
  if (!event) {
    event = { job, newPoints: [] };
    firstEvents.set(job, event);
  }
  return event;
}

/**
 * The same state of the job, read twice: another process's announcement of a change that the
 * first read already saw arrives as a new row object with the same `updatedAt`.
 */
function sameSnapshot(a: TrainingJobRow, b: TrainingJobRow): boolean {
  return (
    a === b ||
    (a.updatedAt.getTime() === b.updatedAt.getTime() &&
      a.status === b.status &&
      a.currentStep === b.currentStep &&
      a.totalSteps === b.totalSteps)
  );
}

/**
 * One update object per event, for every watcher that takes the event: as it came from the
 * feed, or as busy watchers merged it (progress-feed.ts makes merges once per pair of events).
 * The GraphQL layer then executes each operation once per update, not once per watcher (see
 * plugins/shared-subscription-results.ts and http/sse/shared-update.ts).
 */
function sharedProgress(event: JobEvent, now: () => number): TrainingProgress {
  let progress = shared.get(event);
  if (!progress) {
    progress = toProgress(event, now());
    shared.set(event, progress);
  }
  return progress;
}

/** The event's points with a newer snapshot that a watcher saw first: one for all such watchers. */
const withJob = memoByPair<JobEvent, TrainingJobRow, JobEvent>(
  () => new WeakMap(),
  (event, job) => ({ job, newPoints: event.newPoints }),
);

/**
 * Watches one job: the first update at once with its current state, then one per coalesced
 * batch of its events, ending after the update that shows COMPLETED, FAILED or CANCELLED, or
 * with a JobDeleted item once the job is deleted.
 *
 * It listens before it reads, so no event falls between the read and the subscription; points
 * that the first update replayed are not sent again. NOT_FOUND if there is no such job. The
 * stream holds nothing once it ended, returned or its signal aborted.
 */
export async function watchTrainingProgress(
  db: Db,
  feeds: JobFeeds,
  jobId: string,
  { afterStep = null, signal, now = Date.now }: WatchOptions = {},
): Promise<PushSource<ProgressItem>> {
  if (afterStep !== null && afterStep < 0)
    throw badInput('afterStep', 'afterStep must be 0 or more');
  const stream = new ProgressStream(feeds, jobId, now, signal);
  try {
    const job = await readForWatcher(db, feeds, jobId);
    if (!job) throw notFound('training job', jobId);
    const replay = afterStep === null ? [] : await pointsAfter(db, jobId, afterStep);
    stream.start(
      job,
      afterStep === null ? null : Math.max(afterStep, replay.at(-1)?.step ?? 0),
      replay,
    );
    return stream;
  } catch (error) {
    await stream.return();
    throw error;
  }
}

/**
 * A push queue between the job's feed and one consumer, pulled (next()) or pushing to a sink.
 * Batches that arrive while the consumer is busy are merged, one per status (StatusBatches), so
 * a slow client costs a few pending batches, not a growing queue, and still sees every status;
 * slow clients that got the same batches end up with the same merged updates (memoByPair).
 * No step goes out twice, whatever the publishers repeat (a replay, a run adopted after a crash
 * that records again the steps after its checkpoint).
 */
class ProgressStream implements PushSource<ProgressItem> {
  #first: JobEvent | null = null;
  readonly #pending = new StatusBatches();
  /** The job was deleted: the last item, after what is pending. */
  #deleted: JobDeleted | null = null;
  #last: TrainingJobRow | null = null;
  /** The highest step replayed, sent or pending (null: none yet). */
  #upTo: number | null = null;
  #waiting: ((result: IteratorResult<ProgressItem>) => void) | null = null;
  #finished = false;
  #sink: PushSink<ProgressItem> | null = null;
  /** The sink is taking an update that it could not take at once. */
  #busy = false;
  readonly #detach: () => void;
  readonly #onAbort = () => void this.return();

  #signal: AbortSignal | undefined;

  constructor(
    feeds: JobFeeds,
    jobId: string,
    private readonly now: () => number,
    signal?: AbortSignal,
  ) {
    this.#detach = feeds.attach(jobId, (event) => this.#push(event));
    this.#signal = signal;
    signal?.addEventListener('abort', this.#onAbort, { once: true });
    if (signal?.aborted) this.#finish();
  }

  start(job: TrainingJobRow, replayedUpTo: number | null, replay: MetricPointRow[]): void {
    if (this.#finished) return;
    this.#first = replay.length === 0 ? sharedFirstEvent(job) : { job, newPoints: replay };
    if (replayedUpTo !== null) {
      // Events that came while the state was read carried points the replay may hold already.
      this.#pending.keepAfter(replayedUpTo);
      this.#upTo = Math.max(this.#upTo ?? 0, replayedUpTo);
    }
    this.#wake();
  }

  #push(event: JobEvent | JobDeleted): void {
    if (this.#finished) return;
    if (isJobDeleted(event)) {
      this.#deleted = event;
      this.#wake();
      return;
    }
    const kept = eventAfter(event, this.#upTo);
    this.#upTo = kept.newPoints.at(-1)?.step ?? this.#upTo;
    this.#pending.add(kept);
    this.#wake();
  }

  /** The next item, if one is ready. */
  #take(): ProgressItem | null {
    if (!this.#first && !this.#last) return null;
    const event = this.#first ?? this.#pending.shift();
    if (!event) {
      const deleted = this.#deleted;
      if (!deleted) return null;
      this.#deleted = null;
      this.#finish();
      return deleted;
    }
    this.#first = null;
    const job = this.#last ? newerJob(this.#last, event.job) : event.job;
    if (event.newPoints.length === 0 && this.#last && sameSnapshot(job, this.#last))
      return this.#take();
    this.#last = job;
    if (isTerminal(job.status)) this.#finish();
    return sharedProgress(job === event.job ? event : withJob(event, job), this.now);
  }

  #wake(): void {
    if (this.#sink) {
      this.#pump(this.#sink);
      return;
    }
    if (!this.#waiting) return;
    const update = this.#take();
    if (!update && !this.#finished) return;
    const resolve = this.#waiting;
    this.#waiting = null;
    resolve(update ? { value: update, done: false } : { value: undefined, done: true });
  }

  #pump(sink: PushSink<ProgressItem>): void {
    while (!this.#busy) {
      const update = this.#take();
      if (!update) break;
      const taking = sink.next(update);
      if (taking) {
        this.#busy = true;
        void taking.then(() => {
          this.#busy = false;
          this.#pump(sink);
        });
        return;
      }
    }
    if (this.#finished && !this.#busy && this.#sink) {
      this.#sink = null;
      sink.end();
    }
  }

  get ended(): boolean {
    return this.#finished && !this.#sink;
  }

  /** The sink's owner ends the stream with return() now, not the request's signal. */
  pushTo(sink: PushSink<ProgressItem>): void {
    this.#forgetSignal();
    this.#sink = sink;
    this.#pump(sink);
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#pending.drain();
    this.#deleted = null;
    this.#detach();
    this.#forgetSignal();
  }

  #forgetSignal(): void {
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#signal = undefined;
  }

  next(): Promise<IteratorResult<ProgressItem>> {
    const update = this.#take();
    if (update) return Promise.resolve({ value: update, done: false });
    if (this.#finished) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.#waiting = resolve;
    });
  }

  return(): Promise<IteratorResult<ProgressItem>> {
    this.#first = null;
    this.#finish();
    this.#wake();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<ProgressItem>> {
    void this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ProgressItem> {
    return this;
  }
}
