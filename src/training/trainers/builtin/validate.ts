import type { FeatureConfig, TrainerConfig } from './types.ts';

const isInt = (v: number, min: number) => Number.isInteger(v) && v >= min;

/** Rejects settings the trainer cannot honour; the message names the field. */
export function validateSettings(
  config: TrainerConfig,
  features: FeatureConfig,
  validationFraction: number,
  checkpointEvery: number,
): void {
  const fail = (field: string, rule: string) => {
    throw new RangeError(`${field} ${rule}`);
  };
  if (!isInt(config.batchSize, 1)) fail('batchSize', 'must be an integer >= 1');
  if (!isInt(config.gradientAccumulation, 1))
    fail('gradientAccumulation', 'must be an integer >= 1');
  if (!isInt(config.epochs, 1)) fail('epochs', 'must be an integer >= 1');
  if (!isInt(config.warmupSteps, 0)) fail('warmupSteps', 'must be an integer >= 0');
  if (!isInt(config.seed, 0) || config.seed > 0xffffffff)
    fail('seed', 'must be an integer in 0..2^32-1');
  if (!(config.learningRate > 0 && Number.isFinite(config.learningRate)))
    fail('learningRate', 'must be a positive number');
  // Decoupled decay multiplies weights by (1 - lr * wd) each step: that factor must stay positive.
  if (!(config.weightDecay >= 0 && config.learningRate * config.weightDecay < 1))
    fail('weightDecay', 'must be >= 0 with learningRate * weightDecay < 1');
  if (!isInt(features.buckets, 2) || features.buckets > 2 ** 24)
    fail('features.buckets', 'must be an integer in 2..2^24');
  if (!isInt(features.maxNgram, 1) || features.maxNgram > 3)
    fail('features.maxNgram', 'must be 1, 2 or 3');
  if (!(validationFraction > 0 && validationFraction < 1))
    fail('validationFraction', 'must be between 0 and 1 (exclusive)');
  if (!isInt(checkpointEvery, 0)) fail('checkpointEvery', 'must be an integer >= 0');
}
