/** The built-in trainer: pure training core, worker-thread adapter and inference. */
export { decodeArtifact, isBuiltinArtifact, type Model } from './artifact.ts';
export { DEFAULT_FEATURES, featurize, tokenize } from './featurize.ts';
export { type Classification, classify, loadModel } from './inference.ts';
export {
  createTrainingRun,
  DEFAULT_VALIDATION_FRACTION,
  type RunPlan,
  type TrainingRun,
} from './run.ts';
export { learningRateAt, planSteps } from './schedule.ts';
export type {
  EvalMetrics,
  Example,
  FeatureConfig,
  TrainerConfig,
  TrainerEvent,
  TrainingRunOptions,
} from './types.ts';
export { startTrainerWorker, type TrainerWorker } from './worker.ts';
