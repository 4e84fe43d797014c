import type { TrainingJobRow } from '../db/schema.ts';
import type { EventBus } from './bus.ts';

/** What the application publishes. `jobs` fires on any change of any job or model version. */
export type AppTopics = {
  jobs: { jobId: string | null };
  [job: `job:${string}`]: { job: TrainingJobRow };
};

export type AppEvents = EventBus<AppTopics>;

export const jobTopic = (jobId: string) => `job:${jobId}` as const;
