import type { MetricPointRow, TrainingJobRow } from '../db/schema.ts';
import type { OcrEvent } from '../ocr/events.ts';
import type { EventBus } from './bus.ts';

/**
 * A change of one job: its row as of the change (so subscribers need not read it again) and the
 * metric points recorded since the previous event of that job, oldest first.
 */
export type JobEvent = { job: TrainingJobRow; newPoints: MetricPointRow[] };

/**
 * What the application publishes. `jobs` fires on any change of any job or model version;
 * `deleted` says that the job is gone (its watchers end).
 */
export type AppTopics = {
  jobs: { jobId: string | null; deleted?: true };
  [job: `job:${string}`]: JobEvent;
  /** Progress of one OCR batch, then its completion. */
  [batch: `ocr:${string}`]: OcrEvent;
};

export type AppEvents = EventBus<AppTopics>;

export const jobTopic = (jobId: string) => `job:${jobId}` as const;

export const ocrTopic = (batchId: string) => `ocr:${batchId}` as const;

/** Tells subscribers of the job and everyone watching all jobs that a job changed. */
export function announceJob(
  events: AppEvents,
  job: TrainingJobRow,
  newPoints: MetricPointRow[] = [],
) {
  events.publish(jobTopic(job.id), { job, newPoints });
  events.publish('jobs', { jobId: job.id });
}
