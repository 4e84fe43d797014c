import type { Db } from '../db/client.ts';
import type { PageArgs } from '../db/pagination.ts';
import type { TrainingJobRow } from '../db/schema.ts';
import { type AppEvents, announceJob } from '../events/topics.ts';
import type { ModelType } from '../vocabulary/training.ts';
import * as activations from './activations.ts';
import { createClassifier } from './classifier.ts';
import * as curves from './curve.ts';
import * as jobs from './jobs.ts';
import * as metrics from './metrics.ts';
import * as versions from './model-versions.ts';
import { planJob } from './plan.ts';
import { builtinModelPredictor, type ModelPredictor } from './predict/model-predictor.ts';
import { JobFeeds } from './progress-feed.ts';
import { type WatchOptions, watchTrainingProgress } from './progress-stream.ts';
import { jobsByStatus, SystemStatusCache } from './status.ts';
import { builtinTrainer, type Trainer } from './trainers/port.ts';
import type { TransitionAction } from './transitions.ts';

export type TrainingServiceOptions = {
  /** The trainer whose recommendations fill in what a job's config leaves out. */
  trainer?: Trainer;
  /** How many progress updates per second a watcher of one job gets at most. */
  progressMaxEventsPerSecond?: number;
  /** Runs the models `classify` serves; left out: built-in models only. */
  predictor?: ModelPredictor;
};

/**
 * The training domain as the API uses it: every write goes through here so that it is announced
 * on the event bus (subscriptions, caches, other processes listen there).
 */
export function createTrainingService(
  db: Db,
  events: AppEvents,
  {
    progressMaxEventsPerSecond = 4,
    trainer = builtinTrainer,
    predictor = builtinModelPredictor(),
  }: TrainingServiceOptions = {},
) {
  const statusCache = new SystemStatusCache(db);
  const feeds = new JobFeeds(events, progressMaxEventsPerSecond);
  for (const topic of ['jobs', 'models', 'resync'] as const) {
    events.subscribe(topic, () => statusCache.invalidate());
  }
  events.subscribe('jobProgress', ({ jobId }) => statusCache.progressed(jobId));

  const announce = (job: TrainingJobRow) => {
    announceJob(events, job);
    return job;
  };
  const transition = async (id: string, action: TransitionAction) =>
    announce(await jobs.transitionJob(db, id, action));

  return {
    createJob: async (input: unknown) => announce(await jobs.createJob(db, trainer, input)),
    planJob: async (input: unknown) =>
      (await planJob(db, trainer, jobs.parseTrainingConfig(input))).plan,
    pauseJob: (id: string) => transition(id, 'pause'),
    resumeJob: (id: string) => transition(id, 'resume'),
    cancelJob: (id: string) => transition(id, 'cancel'),
    deleteJob: async (id: string) => {
      const deleted = await jobs.deleteJob(db, id);
      events.publish('jobs', { jobId: deleted, deleted: true });
      return deleted;
    },
    activateModelVersion: async (id: string, by: string) => {
      const row = await activations.activateModelVersion(db, id, by);
      events.publish('models', { versionId: row.id });
      return row;
    },
    rollbackModel: async (modelType: ModelType, by: string) => {
      const row = await activations.rollbackModel(db, modelType, by);
      events.publish('models', { versionId: row.id });
      return row;
    },
    listActivations: (filter: activations.ActivationFilter) =>
      activations.listActivations(db, filter),
    deleteModelVersion: async (id: string) => {
      const deleted = await versions.deleteModelVersion(db, id);
      events.publish('models', { versionId: deleted });
      return deleted;
    },
    getJob: (id: string) => jobs.getJob(db, id),
    getJobsByIds: (ids: readonly string[]) => jobs.getJobsByIds(db, ids),
    listJobs: (filter: jobs.JobFilter) => jobs.listJobs(db, filter),
    curve: (jobId: string, args: curves.CurveArgs) => curves.curve(db, jobId, args),
    listMetricPoints: (jobId: string, page: PageArgs) => curves.listMetricPoints(db, jobId, page),
    getModelVersion: (id: string) => versions.getModelVersion(db, id),
    getModelVersionsByIds: (ids: readonly string[]) => versions.getModelVersionsByIds(db, ids),
    modelVersionsByJobIds: (jobIds: readonly string[]) =>
      versions.modelVersionsByJobIds(db, jobIds),
    listModelVersions: (filter: versions.ModelVersionFilter) =>
      versions.listModelVersions(db, filter),
    systemStatus: () => statusCache.get(),
    jobsByStatus: () => jobsByStatus(db),
    classify: createClassifier(db, predictor),
    queuePositions: (jobIds: readonly string[]) => jobs.queuePositions(db, jobIds),
    lossHistoriesByJob: (jobIds: readonly string[]) => metrics.lossHistoriesByJob(db, jobIds),
    lastPointsByJob: (jobIds: readonly string[], last: number) =>
      metrics.lastPointsByJob(db, jobIds, last),
    watchProgress: (id: string, options?: WatchOptions) =>
      watchTrainingProgress(db, feeds, id, options),
  };
}

export type TrainingService = ReturnType<typeof createTrainingService>;
