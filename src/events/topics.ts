import type { MetricPointRow, TrainingJobRow } from '../db/schema.ts';
import type { EventBus } from './bus.ts';
import type { OcrEvent } from './ocr-events.ts';

/**
 * A change of one job: its row as of the change (so subscribers need not read it again) and the
 * metric points recorded since the previous event of that job, oldest first.
 */
export type JobEvent = { job: TrainingJobRow; newPoints: MetricPointRow[] };

/**
 * What the application publishes. The topics say what changed, so that each listener (caches,
 * the runner, other processes through the relay) hears only what concerns it.
 */
export type AppTopics = {
  /** A job was created, changed status or was deleted (`deleted`: its watchers end). */
  jobs: { jobId: string; deleted?: true };
  /** A running job's progress was stored (steps, losses, estimates); its status is the same. */
  jobProgress: { jobId: string };
  /** A model version was recorded, activated or deleted. */
  models: { versionId: string };
  /** Documents were stored. */
  documents: { added: number };
  /** Events may have been lost (the relay reconnected): what was derived from them may be stale. */
  resync: Record<string, never>;
  [job: `job:${string}`]: JobEvent;
  /** Progress of one OCR batch, then its completion. */
  [batch: `ocr:${string}`]: OcrEvent;
};

export type AppEvents = EventBus<AppTopics>;

export const jobTopic = (jobId: string) => `job:${jobId}` as const;

export const ocrTopic = (batchId: string) => `ocr:${batchId}` as const;

/** Tells the job's watchers and the `jobs` listeners that it was created or changed status. */
export function announceJob(
  events: AppEvents,
  job: TrainingJobRow,
  newPoints: MetricPointRow[] = [],
) {
  events.publish(jobTopic(job.id), { job, newPoints });
  events.publish('jobs', { jobId: job.id });
}

/**
 * Tells subscribers of the job of progress stored while its status stayed the same; caches
 * drop only what holds this job.
 */
export function announceProgress(
  events: AppEvents,
  job: TrainingJobRow,
  newPoints: MetricPointRow[],
) {
  events.publish(jobTopic(job.id), { job, newPoints });
  events.publish('jobProgress', { jobId: job.id });
}
