import DataLoader from 'dataloader';
import type { Db } from '../db/client.ts';
import type { MetricPointRow, ModelVersionRow } from '../db/schema.ts';
import { type LossHistories, lastPointsByJob, lossHistoriesByJob } from '../training/metrics.ts';
import { modelVersionsByJobIds } from '../training/model-versions.ts';

/**
 * Per-request batch loaders, so that a list of N jobs with their metrics, history and model
 * version costs a constant number of statements, not N.
 */
export function createLoaders(db: Db) {
  return {
    lossHistories: new DataLoader<string, LossHistories>(async (jobIds) => {
      const byJob = await lossHistoriesByJob(db, jobIds);
      return jobIds.map((id) => byJob.get(id) ?? { lossHistory: [], valLossHistory: [] });
    }),
    /** Key: `${jobId}|${last}`; one statement per distinct `last`. */
    history: new DataLoader<string, MetricPointRow[]>(async (keys) => {
      const byLast = new Map<number, string[]>();
      for (const key of keys) {
        const [jobId = '', last] = key.split('|');
        byLast.set(Number(last), [...(byLast.get(Number(last)) ?? []), jobId]);
      }
      const results = new Map<string, MetricPointRow[]>();
      await Promise.all(
        [...byLast].map(async ([last, jobIds]) => {
          const byJob = await lastPointsByJob(db, jobIds, last);
          for (const id of jobIds) results.set(`${id}|${last}`, byJob.get(id) ?? []);
        }),
      );
      return keys.map((key) => results.get(key) ?? []);
    }),
    modelVersionByJob: new DataLoader<string, ModelVersionRow | null>(async (jobIds) => {
      const rows = await modelVersionsByJobIds(db, jobIds);
      const byJob = new Map(rows.map((row) => [row.jobId, row]));
      return jobIds.map((id) => byJob.get(id) ?? null);
    }),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;

/** Forgets what was loaded: a subscription keeps its context across events, and each must read afresh. */
export function clearLoaders(loaders: Loaders): void {
  for (const loader of Object.values(loaders)) loader.clearAll();
}
