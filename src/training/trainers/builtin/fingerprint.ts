import { createHash } from 'node:crypto';
import type { Example, FeatureConfig, TrainerConfig } from './types.ts';

/**
 * Identifies what a run computes: examples (in order), every config field that affects the
 * numbers, the validation share and the feature settings. `mixedPrecision` is left out because
 * the trainer does not use it.
 */
export function runFingerprint(
  examples: readonly Example[],
  config: TrainerConfig,
  validationFraction: number,
  features: FeatureConfig,
): string {
  const c = config;
  const settings = [
    c.batchSize,
    c.learningRate,
    c.epochs,
    c.warmupSteps,
    c.weightDecay,
    c.gradientAccumulation,
    c.seed,
    validationFraction,
    features.buckets,
    features.maxNgram,
  ];
  const hash = createHash('sha256').update(JSON.stringify(settings));
  for (const { text, label } of examples) hash.update(JSON.stringify([label, text]));
  return hash.digest('hex');
}
