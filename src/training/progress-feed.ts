import type { MetricPointRow, TrainingJobRow } from '../db/schema.ts';
import { type AppEvents, type JobEvent, jobTopic } from '../events/topics.ts';

/**
 * The later of two snapshots of a job. Ties go to `next` (the one that arrived later): a writer
 * need not bump `updatedAt` on every progress write, but events from other processes can
 * arrive out of order, and a snapshot that is older than one already seen must not win.
 */
export function newerJob(current: TrainingJobRow, next: TrainingJobRow): TrainingJobRow {
  return next.updatedAt.getTime() >= current.updatedAt.getTime() ? next : current;
}

type Store<K, V> = { get(key: K): V | undefined; set(key: K, value: V): unknown };

/**
 * `derive` made once per pair of inputs, told apart by identity, and kept while the first input
 * lives. Watchers of a job hold the same event objects, so whatever they derive from them this
 * way is one object for all of them too: the GraphQL layer executes an update once per object
 * (see plugins/shared-subscription-results.ts), not once per watcher that had to merge it.
 */
export function memoByPair<A extends object, B, V>(
  storeFor: () => Store<B, V>,
  derive: (a: A, b: B) => V,
): (a: A, b: B) => V {
  const byFirst = new WeakMap<A, Store<B, V>>();
  return (a, b) => {
    let store = byFirst.get(a);
    if (!store) {
      store = storeFor();
      byFirst.set(a, store);
    }
    let value = store.get(b);
    if (value === undefined) {
      value = derive(a, b);
      store.set(b, value);
    }
    return value;
  };
}

/**
 * Two events as one: the newer snapshot and every point of both, in order. The same object for
 * the same two events, so busy watchers that merge what they all got still share updates.
 */
export const mergeJobEvents = memoByPair<JobEvent, JobEvent, JobEvent>(
  () => new WeakMap(),
  (first, second) => ({
    job: newerJob(first.job, second.job),
    newPoints:
      second.newPoints.length === 0
        ? first.newPoints
        : first.newPoints.length === 0
          ? second.newPoints
          : [...first.newPoints, ...second.newPoints],
  }),
);

/** Whether every point's step is above the one before (made once per points array). */
const ascendingPoints = new WeakMap<MetricPointRow[], boolean>();
function isAscending(points: MetricPointRow[]): boolean {
  let ascending = ascendingPoints.get(points);
  if (ascending === undefined) {
    ascending = points.every((p, i) => i === 0 || p.step > (points[i - 1] as MetricPointRow).step);
    ascendingPoints.set(points, ascending);
  }
  return ascending;
}

const filteredAfter = memoByPair<JobEvent, number, JobEvent>(
  () => new Map(),
  (event, upTo) => {
    let last = upTo;
    return {
      job: event.job,
      newPoints: event.newPoints.filter((p) => {
        if (p.step <= last) return false;
        last = p.step;
        return true;
      }),
    };
  },
);

/**
 * The event with only the points beyond step `upTo` and beyond every point before them (no step
 * twice, none back): `event` itself when that is all of them, else one object for every watcher
 * that is at the same step. Costs each watcher a comparison, not a pass over the points.
 */
export function eventAfter(event: JobEvent, upTo: number | null): JobEvent {
  const [first] = event.newPoints;
  if (!first || ((upTo === null || first.step > upTo) && isAscending(event.newPoints))) {
    return event;
  }
  return filteredAfter(event, upTo ?? Number.NEGATIVE_INFINITY);
}

/**
 * A job's events waiting to go out, merged while the status stays the same. A change of status
 * starts a new batch, so that every status a job passes through reaches its watchers; a snapshot
 * older than the last batch's (from another process, late) joins that batch instead. At most one
 * batch per status: when a status comes back (a job paused and resumed while nobody read), its
 * earlier batch is folded into the next one, which keeps every status and every point in order.
 */
export class StatusBatches {
  #batches: JobEvent[] = [];

  add(event: JobEvent): void {
    const batches = this.#batches;
    const last = batches.at(-1);
    if (
      last &&
      (newerJob(last.job, event.job) !== event.job || last.job.status === event.job.status)
    ) {
      batches[batches.length - 1] = mergeJobEvents(last, event);
      return;
    }
    const earlier = batches.findIndex((b) => b.job.status === event.job.status);
    if (earlier >= 0) {
      const [folded] = batches.splice(earlier, 1) as [JobEvent];
      batches[earlier] = mergeJobEvents(folded, batches[earlier] as JobEvent);
    }
    batches.push(event);
  }

  /** The oldest batch, taken out. */
  shift(): JobEvent | undefined {
    return this.#batches.shift();
  }

  /** Every batch, oldest first, taken out. */
  drain(): JobEvent[] {
    const batches = this.#batches;
    this.#batches = [];
    return batches;
  }

  /** Keeps, in each batch, only the points beyond step `upTo` (see eventAfter). */
  keepAfter(upTo: number): void {
    this.#batches = this.#batches.map((b) => eventAfter(b, upTo));
  }
}

/** The last thing a job's watchers get: the job was deleted. One object for all of them. */
export type JobDeleted = { readonly jobId: string; readonly deleted: true };

export const isJobDeleted = (event: JobEvent | JobDeleted): event is JobDeleted =>
  'deleted' in event;

type Sink = (event: JobEvent | JobDeleted) => void;

type Feed = {
  sinks: Set<Sink>;
  unsubscribe: () => void;
  pending: StatusBatches;
  cooldown: NodeJS.Timeout | null;
  /** Replaced by every event of the job that reaches the feed (see epochOf). */
  epoch: object;
};

/**
 * The events of each watched job, coalesced to at most `maxPerSecond` batches and shared by all
 * the process's watchers of that job: one bus subscription and one timer per job, however many
 * clients watch it. The first event after a quiet spell goes out at once; events that follow
 * within the interval are merged (no point is lost, no status skipped: see StatusBatches) and
 * go out when it ends.
 */
export class JobFeeds {
  readonly #feeds = new Map<string, Feed>();
  readonly #intervalMs: number;
  /** Listens for deletions on `jobs` while any job is watched. */
  #unsubscribeDeletions: (() => void) | null = null;

  constructor(
    private readonly events: AppEvents,
    maxPerSecond: number,
  ) {
    this.#intervalMs = 1000 / maxPerSecond;
  }

  /** Calls `sink` with each coalesced batch of the job's events until the returned detach. */
  attach(jobId: string, sink: Sink): () => void {
    let feed = this.#feeds.get(jobId);
    if (!feed) {
      const created: Feed = {
        sinks: new Set(),
        unsubscribe: () => {},
        pending: new StatusBatches(),
        cooldown: null,
        epoch: {},
      };
      created.unsubscribe = this.events.subscribe(jobTopic(jobId), (event) =>
        this.#receive(created, event),
      );
      this.#feeds.set(jobId, created);
      feed = created;
      this.#unsubscribeDeletions ??= this.events.subscribe('jobs', ({ jobId, deleted }) => {
        if (!deleted || !jobId) return;
        const gone = this.#feeds.get(jobId);
        if (gone) this.#deleted(gone, jobId);
      });
    }
    const attached = feed;
    attached.sinks.add(sink);
    return () => {
      if (!attached.sinks.delete(sink) || attached.sinks.size > 0) return;
      attached.unsubscribe();
      if (attached.cooldown) clearTimeout(attached.cooldown);
      this.#feeds.delete(jobId);
      if (this.#feeds.size === 0) {
        this.#unsubscribeDeletions?.();
        this.#unsubscribeDeletions = null;
      }
    };
  }

  /**
   * The same object from a watcher's attach on for as long as no event of the job reaches this
   * process (and the job stays watched): a read of the job sent in an epoch misses no change
   * that a watcher attached in the same epoch would not get as an event. Undefined when the job
   * is not watched.
   */
  epochOf(jobId: string): object | undefined {
    return this.#feeds.get(jobId)?.epoch;
  }

  /** Jobs watched in this process right now. */
  get size(): number {
    return this.#feeds.size;
  }

  #receive(feed: Feed, event: JobEvent): void {
    feed.epoch = {};
    feed.pending.add(event);
    if (!feed.cooldown) this.#flush(feed);
  }

  /** Whatever is pending goes out at once, then the deletion. */
  #deleted(feed: Feed, jobId: string): void {
    feed.epoch = {};
    if (feed.cooldown) clearTimeout(feed.cooldown);
    feed.cooldown = null;
    const batches = feed.pending.drain();
    const deleted: JobDeleted = { jobId, deleted: true };
    for (const sink of [...feed.sinks]) {
      for (const batch of batches) sink(batch);
      sink(deleted);
    }
  }

  /** Sends what is pending: a batch per status, in order (a status change may exceed the rate). */
  #flush(feed: Feed): void {
    const batches = feed.pending.drain();
    if (batches.length === 0) {
      feed.cooldown = null;
      return;
    }
    const sentAt = performance.now();
    for (const sink of [...feed.sinks]) for (const batch of batches) sink(batch);
    // The last watcher may have left while these batches went out: then the feed is gone.
    if (feed.sinks.size === 0) return;
    // counted from the send, not from its end: going out to thousands of watchers takes a while
    const cooldownMs = Math.max(0, this.#intervalMs - (performance.now() - sentAt));
    feed.cooldown = setTimeout(() => this.#flush(feed), cooldownMs);
    feed.cooldown.unref();
  }
}
