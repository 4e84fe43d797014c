/** Job statuses and model types: the words of the API, the database and the trainer alike. */
export const TRAINING_STATUSES = [
  'QUEUED',
  'PREPARING',
  'TRAINING',
  'VALIDATING',
  'COMPLETED',
  'FAILED',
  'PAUSED',
  'CANCELLED',
] as const;
export type TrainingStatus = (typeof TRAINING_STATUSES)[number];

export const MODEL_TYPES = ['ZEUGNIS', 'KLAUSUR', 'GENERAL'] as const;
export type ModelType = (typeof MODEL_TYPES)[number];

/**
 * When a completed version becomes active: ALWAYS (the prototype's rule), IF_BETTER (it beats
 * the baseline and the active version on its own validation split) or MANUAL (never by itself).
 */
export const ACTIVATION_POLICIES = ['ALWAYS', 'IF_BETTER', 'MANUAL'] as const;
export type ActivationPolicy = (typeof ACTIVATION_POLICIES)[number];

/** Why a version became active, as the activation history records it. */
export const ACTIVATION_REASONS = ['AUTO_ALWAYS', 'AUTO_IF_BETTER', 'MANUAL', 'ROLLBACK'] as const;
export type ActivationReason = (typeof ACTIVATION_REASONS)[number];

/**
 * The limits of a training configuration: the single source for validation, the GraphQL
 * descriptions and defaults, and the database CHECK constraints.
 */
export const CONFIG_LIMITS = {
  name: { min: 1, max: 200 },
  bundeslaender: { min: 1, max: 16 },
  batchSize: { min: 1, max: 128, default: 16 },
  // No default: left out, the trainer's recommendation for the run applies (training/plan.ts).
  learningRate: { min: 0.000001, max: 0.1 },
  epochs: { min: 1, max: 100, default: 10 },
  warmupSteps: { min: 0, max: 10000 },
  /** Warm-up as a share of the run's optimizer steps (Hugging Face's `warmup_ratio`). */
  warmupRatio: { min: 0, max: 0.5 },
  weightDecay: { min: 0, max: 1, default: 0.01 },
  gradientAccumulation: { min: 1, max: 32, default: 4 },
  seed: { min: 0, max: 2147483647, default: 42 },
} as const;
