import type { Db } from '../../src/db/client.ts';
import {
  type MetricPointRow,
  metricPoints,
  modelVersions,
  type TrainingJobRow,
} from '../../src/db/schema.ts';
import { createJob, transitionJob } from '../../src/training/jobs.ts';
import { builtinTrainer } from '../../src/training/trainers/port.ts';
import type { TransitionAction } from '../../src/training/transitions.ts';

export const JOB_FIELDS = `
  id name modelType status progress currentEpoch totalEpochs currentStep totalSteps
  loss valLoss learningRate documentsProcessed totalDocuments
  createdAt startedAt estimatedCompletion completedAt errorMessage
  metrics { precision recall f1Score accuracy lossHistory valLossHistory }
  config { name modelType bundeslaender batchSize learningRate epochs warmupSteps weightDecay gradientAccumulation mixedPrecision activation defaultsApplied }
  plan { totalSteps learningRate warmupSteps }
  history(last: 5) { step epoch loss valLoss learningRate timestamp }
  modelVersion { id version isActive sizeMb }
`;

export const newJob = (db: Db, name = 'job', extra: Record<string, unknown> = {}) =>
  createJob(db, builtinTrainer, { name, bundeslaender: ['NW', 'BY'], ...extra });

/** Moves a job along the runner's path, as the runner would. */
export async function advance(db: Db, job: TrainingJobRow, ...actions: TransitionAction[]) {
  let row = job;
  for (const action of actions) row = await transitionJob(db, row.id, action);
  return row;
}

/** Steps 1..count of a job, an evaluation (valLoss) every `evalEvery` steps. */
export const pointRows = (jobId: string, count: number, evalEvery = 10): MetricPointRow[] =>
  Array.from({ length: count }, (_, i) => ({
    jobId,
    step: i + 1,
    epoch: Math.floor(i / evalEvery) + 1,
    loss: 1 / (i + 1),
    valLoss: (i + 1) % evalEvery === 0 ? 1.1 / (i + 1) : null,
    learningRate: 0.0001,
    recordedAt: new Date(),
  }));

/**
 * Steps 1..count of a long run: a falling training loss with deterministic noise (so that every
 * stretch of steps has its own lowest and highest point), a validation loss every `evalEvery`
 * steps, and no training loss on every 1000th step (as when a step only evaluated).
 */
export const noisyPointRows = (jobId: string, count: number, evalEvery = 97): MetricPointRow[] =>
  Array.from({ length: count }, (_, i) => {
    const step = i + 1;
    const trend = 2 * Math.exp(-step / (count / 3));
    return {
      jobId,
      step,
      epoch: Math.floor(i / 1000) + 1,
      loss: step % 1000 === 0 ? null : trend + 0.3 * Math.abs(Math.sin(step * 12.9898)),
      valLoss: step % evalEvery === 0 ? trend + 0.1 * Math.abs(Math.cos(step * 78.233)) : null,
      learningRate: 0.01 * Math.min(1, step / 500),
      recordedAt: new Date(Date.UTC(2026, 0, 1) + step * 1000),
    };
  });

/** Stores points in statements of 5,000 rows (a statement takes at most 65,535 parameters). */
export async function insertPoints(db: Db, rows: readonly MetricPointRow[]) {
  for (let i = 0; i < rows.length; i += 5000) {
    await db.insert(metricPoints).values(rows.slice(i, i + 5000));
  }
}

export async function addPoints(db: Db, jobId: string, count: number, evalEvery = 10) {
  if (count === 0) return;
  await db.insert(metricPoints).values(pointRows(jobId, count, evalEvery));
}

/** A model version as the runner records it on completion. */
export async function addVersion(
  db: Db,
  job: TrainingJobRow,
  versionNumber: number,
  isActive = false,
) {
  const [row] = await db
    .insert(modelVersions)
    .values({
      jobId: job.id,
      modelType: job.modelType,
      versionNumber,
      isActive,
      metrics: {
        precision: 0.8,
        recall: 0.7,
        f1Score: 0.75,
        accuracy: 0.8,
        lossHistory: [1, 0.5],
        valLossHistory: [0.6],
      },
      config: {},
      bundeslaender: job.bundeslaender,
      artifactBytes: 3 * 1024 * 1024,
    })
    .returning();
  if (!row) throw new Error('no version');
  return row;
}
