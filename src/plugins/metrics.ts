import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { DatasetService } from '../dataset/service.ts';
import type { PgRelay } from '../events/pg-relay.ts';
import type { SseFanout } from '../http/sse/fanout.ts';
import type { EventStreamKind, StreamLimiter } from '../http/sse/stream-limits.ts';
import type { OcrService } from '../ocr/service.ts';
import type { Runner } from '../training/runner/runner.ts';
import type { TrainingService } from '../training/service.ts';

export type MetricsSources = {
  training: TrainingService;
  dataset: DatasetService;
  ocr: OcrService;
  fanout: SseFanout;
};

const EVENT_STREAM_KINDS: readonly EventStreamKind[] = ['graphql-sse', 'yoga-sse'];

/**
 * The Prometheus registry of one app (tests run several apps in one process) with the domain's
 * metrics. Every value is read when /metrics is scraped: the services, runner, relay and fast
 * path only keep plain counts, so that nothing on their hot paths calls into prom-client. What
 * starts after the app (the runner, the relay, the HTTP server's stream limits) is watched once
 * it exists.
 */
export class AppMetrics {
  readonly registry = new Registry();
  #runner: Runner | null = null;
  #relay: PgRelay | null = null;
  #streams: StreamLimiter | null = null;

  constructor({ training, dataset, ocr, fanout }: MetricsSources) {
    const registers = [this.registry];

    new Gauge({
      name: 'training_jobs',
      help: 'Training jobs by status',
      labelNames: ['status'],
      registers,
      async collect() {
        this.reset();
        for (const { status, jobs } of await training.jobsByStatus()) this.set({ status }, jobs);
      },
    });
    new Gauge({
      name: 'training_queue_depth',
      help: 'Jobs waiting in the queue (QUEUED)',
      registers,
      async collect() {
        const queued = (await training.jobsByStatus()).find((row) => row.status === 'QUEUED');
        this.set(queued?.jobs ?? 0);
      },
    });
    const runner = () => this.#runner?.activity();
    new Gauge({
      name: 'training_steps_per_second',
      help: 'Training steps per second of each job this process runs (since it took the job)',
      labelNames: ['job_id'],
      registers,
      collect() {
        this.reset();
        for (const { jobId, value } of runner()?.stepsPerSecond ?? []) {
          this.set({ job_id: jobId }, value);
        }
      },
    });
    new Gauge({
      name: 'training_runner_slots',
      help: 'Training slots of this process (TRAINING_CONCURRENCY), busy or free',
      labelNames: ['state'],
      registers,
      collect() {
        const activity = runner();
        this.set({ state: 'busy' }, activity?.busy ?? 0);
        this.set({ state: 'free' }, activity ? activity.slots - activity.busy : 0);
      },
    });
    counterOf(this.registry, {
      name: 'training_lease_renewals_failed_total',
      help: 'Lease renewals of running jobs that failed (database errors)',
      read: () => runner()?.leaseRenewalsFailed ?? 0,
    });

    const streams = () => this.#streams;
    // a stream handed over to the fast path still holds the slot of the protocol it began with
    const withLibrary = (kind: EventStreamKind) =>
      (streams()?.openStreams(kind) ?? 0) - fanout.openStreams(kind);
    new Gauge({
      name: 'streams_open',
      help: 'Open subscription streams by transport (an SSE stream counts as fast-path once handed over)',
      labelNames: ['kind'],
      registers,
      collect() {
        this.set({ kind: 'fast-path' }, fanout.size);
        for (const kind of EVENT_STREAM_KINDS) this.set({ kind }, withLibrary(kind));
        this.set({ kind: 'graphql-ws' }, streams()?.openStreams('graphql-ws') ?? 0);
      },
    });
    counterOf(this.registry, {
      name: 'sse_fast_path_subscriptions_total',
      help: 'Streams handed over to the fast path',
      read: () => fanout.counts.adopted,
    });
    counterOf(this.registry, {
      name: 'sse_fast_path_events_total',
      help: 'Updates the fast path wrote (one per stream and update)',
      read: () => fanout.counts.updates,
    });

    const relay = () => this.#relay?.lag();
    new Gauge({
      name: 'event_relay_lag_seconds',
      help: 'How long the oldest event waiting in the PostgreSQL relay has waited, by direction',
      labelNames: ['direction'],
      registers,
      collect() {
        const lag = relay();
        this.set({ direction: 'send' }, (lag?.sendMs ?? 0) / 1000);
        this.set({ direction: 'receive' }, (lag?.receiveMs ?? 0) / 1000);
      },
    });

    new Gauge({
      name: 'ocr_images_waiting',
      help: 'Images of unfinished OCR batches waiting for their result',
      registers,
      async collect() {
        this.set(await ocr.waitingImages());
      },
    });
    counterOf(this.registry, {
      name: 'ocr_cache_lookups_total',
      help: 'Images looked up in the OCR cache',
      read: () => ocr.cacheCounts().lookups,
    });
    counterOf(this.registry, {
      name: 'ocr_cache_hits_total',
      help: 'Images found in the OCR cache',
      read: () => ocr.cacheCounts().hits,
    });
    new Gauge({
      name: 'ocr_cache_hit_ratio',
      help: 'Share of OCR cache lookups that found the image (since the process started)',
      registers,
      collect() {
        const { lookups, hits } = ocr.cacheCounts();
        this.set(lookups > 0 ? hits / lookups : 0);
      },
    });

    counterOf(this.registry, {
      name: 'dataset_import_rows_total',
      help: 'Rows read by dataset imports',
      read: () => dataset.importActivity().rows,
    });
    new Gauge({
      name: 'dataset_import_rows_per_second',
      help: 'Rows per second of the dataset imports running now',
      registers,
      collect() {
        this.set(dataset.importActivity().rowsPerSecond);
      },
    });
  }

  /**
   * prom-client's process metrics (CPU, memory, event-loop delay, GC): once per process, by the
   * server, since they observe the process (GC observers, an event-loop monitor) for good.
   */
  collectProcessMetrics(): void {
    collectDefaultMetrics({ register: this.registry });
  }

  watchRunner(runner: Runner): void {
    this.#runner = runner;
  }

  watchRelay(relay: PgRelay): void {
    this.#relay = relay;
  }

  /** The stream limits of the HTTP server serving the app (http/listener.ts). */
  watchStreams(streams: StreamLimiter): void {
    this.#streams = streams;
  }
}

/** A counter that follows a count kept elsewhere as a plain number. */
function counterOf(
  registry: Registry,
  { name, help, read }: { name: string; help: string; read: () => number },
): void {
  let seen = 0;
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const now = read();
      if (now > seen) this.inc(now - seen);
      seen = now;
    },
  });
}
