import DataLoader from 'dataloader';
import type { Db } from '../db/client.ts';
import type { MetricPointRow, ModelVersionRow } from '../db/schema.ts';
import { queuePositions } from '../training/jobs.ts';
import { type LossHistories, lastPointsByJob, lossHistoriesByJob } from '../training/metrics.ts';
import { modelVersionsByJobIds } from '../training/model-versions.ts';

/**
 * Per-request batch loaders, so that a list of N jobs with their metrics, history and model
 * version costs a constant number of statements, not N. Each is made on first use: most
 * requests (and every subscription, which holds its context for its whole life) need few or none.
 */
export class Loaders {
  #queuePosition: DataLoader<string, number | null> | undefined;
  #lossHistories: DataLoader<string, LossHistories> | undefined;
  #history: DataLoader<string, MetricPointRow[]> | undefined;
  #modelVersionByJob: DataLoader<string, ModelVersionRow | null> | undefined;

  constructor(private readonly db: Db) {}

  get queuePosition(): DataLoader<string, number | null> {
    this.#queuePosition ??= new DataLoader(async (jobIds) => {
      const positions = await queuePositions(this.db, jobIds);
      return jobIds.map((id) => positions.get(id) ?? null);
    });
    return this.#queuePosition;
  }

  get lossHistories(): DataLoader<string, LossHistories> {
    this.#lossHistories ??= new DataLoader(async (jobIds) => {
      const byJob = await lossHistoriesByJob(this.db, jobIds);
      return jobIds.map((id) => byJob.get(id) ?? { lossHistory: [], valLossHistory: [] });
    });
    return this.#lossHistories;
  }

  /** Key: `${jobId}|${last}`; one statement per distinct `last`. */
  get history(): DataLoader<string, MetricPointRow[]> {
    this.#history ??= new DataLoader(async (keys) => {
      const byLast = new Map<number, string[]>();
      for (const key of keys) {
        const [jobId = '', last] = key.split('|');
        byLast.set(Number(last), [...(byLast.get(Number(last)) ?? []), jobId]);
      }
      const results = new Map<string, MetricPointRow[]>();
      await Promise.all(
        [...byLast].map(async ([last, jobIds]) => {
          const byJob = await lastPointsByJob(this.db, jobIds, last);
          for (const id of jobIds) results.set(`${id}|${last}`, byJob.get(id) ?? []);
        }),
      );
      return keys.map((key) => results.get(key) ?? []);
    });
    return this.#history;
  }

  get modelVersionByJob(): DataLoader<string, ModelVersionRow | null> {
    this.#modelVersionByJob ??= new DataLoader(async (jobIds) => {
      const rows = await modelVersionsByJobIds(this.db, jobIds);
      const byJob = new Map(rows.map((row) => [row.jobId, row]));
      return jobIds.map((id) => byJob.get(id) ?? null);
    });
    return this.#modelVersionByJob;
  }

  /** Forgets what was loaded: a subscription keeps its context across events, and each must read afresh. */
  clear(): void {
    this.#queuePosition = undefined;
    this.#lossHistories = undefined;
    this.#history = undefined;
    this.#modelVersionByJob = undefined;
  }
}
