import DataLoader from 'dataloader';
import type { MetricPointRow, ModelVersionRow } from '../db/schema.ts';
import type { LossHistories } from '../training/metrics.ts';
import type { TrainingService } from '../training/service.ts';

/**
 * Per-request batch loaders, so that a list of N jobs with their metrics, history and model
 * version costs a constant number of statements, not N. Each is made on first use: most
 * requests (and every subscription, which holds its context for its whole life) need few or none.
 */
export class Loaders {
  #queuePosition: DataLoader<string, number | null> | undefined;
  #lossHistories: DataLoader<string, LossHistories> | undefined;
  /** One loader per `last` asked for: one statement each. */
  #historyByLast = new Map<number, DataLoader<string, MetricPointRow[]>>();
  #modelVersionByJob: DataLoader<string, ModelVersionRow | null> | undefined;

  constructor(private readonly training: TrainingService) {}

  get queuePosition(): DataLoader<string, number | null> {
    this.#queuePosition ??= new DataLoader(async (jobIds) => {
      const positions = await this.training.queuePositions(jobIds);
      return jobIds.map((id) => positions.get(id) ?? null);
    });
    return this.#queuePosition;
  }

  get lossHistories(): DataLoader<string, LossHistories> {
    this.#lossHistories ??= new DataLoader(async (jobIds) => {
      const byJob = await this.training.lossHistoriesByJob(jobIds);
      return jobIds.map((id) => byJob.get(id) ?? { lossHistory: [], valLossHistory: [] });
    });
    return this.#lossHistories;
  }

  /** The last `last` metric points of jobs, by job id. */
  history(last: number): DataLoader<string, MetricPointRow[]> {
    let loader = this.#historyByLast.get(last);
    if (!loader) {
      loader = new DataLoader(async (jobIds) => {
        const byJob = await this.training.lastPointsByJob(jobIds, last);
        return jobIds.map((id) => byJob.get(id) ?? []);
      });
      this.#historyByLast.set(last, loader);
    }
    return loader;
  }

  get modelVersionByJob(): DataLoader<string, ModelVersionRow | null> {
    this.#modelVersionByJob ??= new DataLoader(async (jobIds) => {
      const rows = await this.training.modelVersionsByJobIds(jobIds);
      const byJob = new Map(rows.map((row) => [row.jobId, row]));
      return jobIds.map((id) => byJob.get(id) ?? null);
    });
    return this.#modelVersionByJob;
  }

  /** Forgets what was loaded: a subscription keeps its context across events, and each must read afresh. */
  clear(): void {
    this.#queuePosition = undefined;
    this.#lossHistories = undefined;
    this.#historyByLast.clear();
    this.#modelVersionByJob = undefined;
  }
}
