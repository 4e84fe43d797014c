import type { ModelVersionRow, TrainingJobRow } from '../db/schema.ts';
import type { EvaluationReport } from '../vocabulary/evaluation.ts';
import { builder } from './builder.ts';

/** Object refs shared across schema files (jobs and versions point at each other). */
const byId = <T extends { id: string }>(ids: string[], rows: T[]) => {
  const map = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => map.get(id) ?? new Error(`not found: ${id}`));
};

export const TrainingJobRef = builder.loadableNodeRef<TrainingJobRow, string, string>(
  'TrainingJob',
  {
    id: { resolve: (job) => job.id },
    load: async (ids, ctx) => byId(ids, await ctx.training.getJobsByIds(ids)),
  },
);

export const ModelVersionRef = builder.loadableNodeRef<ModelVersionRow, string, string>(
  'ModelVersion',
  {
    id: { resolve: (version) => version.id },
    load: async (ids, ctx) => byId(ids, await ctx.training.getModelVersionsByIds(ids)),
  },
);

/** Metrics of a job (histories loaded by job id) or frozen in a model version. */
export type MetricsShape = {
  precision: number;
  recall: number;
  f1Score: number;
  accuracy: number;
  jobId?: string;
  lossHistory?: number[];
  valLossHistory?: number[];
} & Partial<EvaluationReport>;

export const TrainingMetricsRef = builder.objectRef<MetricsShape>('TrainingMetrics');
