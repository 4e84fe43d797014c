import { eq } from 'drizzle-orm';
import type { Db } from '../../src/db/client.ts';
import { type MetricPointRow, metricPoints, trainingJobs } from '../../src/db/schema.ts';
import {
  type AppEvents,
  announceJob,
  announceProgress,
  type JobEvent,
} from '../../src/events/topics.ts';
import { type JobPatch, transitionJob } from '../../src/training/jobs.ts';
import type { TransitionAction } from '../../src/training/transitions.ts';

/**
 * Changes jobs the way the training runner does: database writes first, then the job's
 * snapshot with the points just written on `job:<id>`, and `jobs` (a status change) or
 * `jobProgress` (steps).
 */
export class FakeRunner {
  readonly #steps = new Map<string, number>();

  constructor(
    private readonly db: Db,
    private readonly events: AppEvents,
    private readonly totalSteps = 1000,
  ) {}

  async transition(jobId: string, action: TransitionAction, patch: JobPatch = {}) {
    const job = await transitionJob(this.db, jobId, action, patch);
    announceJob(this.events, job);
    return job;
  }

  /** QUEUED → PREPARING → TRAINING, with a start time and an estimate. */
  async start(jobId: string) {
    const now = Date.now();
    await this.transition(jobId, 'claim', {
      startedAt: new Date(now),
      totalSteps: this.totalSteps,
      estimatedCompletion: new Date(now + 3_600_000),
    });
    return this.transition(jobId, 'startTraining');
  }

  /** Writes the job's next `count` steps and its progress, and returns the event, unpublished. */
  async record(jobId: string, count: number): Promise<JobEvent> {
    const from = (this.#steps.get(jobId) ?? 0) + 1;
    const to = from + count - 1;
    this.#steps.set(jobId, to);
    const newPoints: MetricPointRow[] = await this.db
      .insert(metricPoints)
      .values(
        Array.from({ length: count }, (_, i) => ({
          jobId,
          step: from + i,
          epoch: 1,
          loss: 1 / (from + i),
          valLoss: null,
          learningRate: 0.0001,
        })),
      )
      .returning();
    const [job] = await this.db
      .update(trainingJobs)
      .set({
        currentStep: to,
        progress: Math.min(100, (100 * to) / this.totalSteps),
        loss: 1 / to,
        updatedAt: new Date(),
      })
      .where(eq(trainingJobs.id, jobId))
      .returning();
    if (!job) throw new Error(`no job ${jobId}`);
    return { job, newPoints };
  }

  /** `record` and publish. */
  async step(jobId: string, count = 1): Promise<JobEvent> {
    const event = await this.record(jobId, count);
    this.publish(event);
    return event;
  }

  /** Announces recorded steps. */
  publish(event: JobEvent): void {
    announceProgress(this.events, event.job, event.newPoints);
  }
}
