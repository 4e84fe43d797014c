import type { TrainingJobRow } from '../db/schema.ts';
import type { OcrEvent } from '../ocr/events.ts';
import type { EventBus } from './bus.ts';

/** What the application publishes. `jobs` fires on any change of any job or model version. */
export type AppTopics = {
  jobs: { jobId: string | null };
  [job: `job:${string}`]: { job: TrainingJobRow };
  /** Progress of one OCR batch, then its completion. */
  [batch: `ocr:${string}`]: OcrEvent;
};

export type AppEvents = EventBus<AppTopics>;

export const jobTopic = (jobId: string) => `job:${jobId}` as const;

export const ocrTopic = (batchId: string) => `ocr:${batchId}` as const;
