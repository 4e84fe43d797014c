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
 * The limits of a training configuration: the single source for validation, the GraphQL
 * descriptions and defaults, and the database CHECK constraints.
 */
export const CONFIG_LIMITS = {
  name: { min: 1, max: 200 },
  bundeslaender: { min: 1, max: 16 },
  batchSize: { min: 1, max: 128, default: 16 },
  learningRate: { min: 0.000001, max: 0.1, default: 0.00005 },
  epochs: { min: 1, max: 100, default: 10 },
  warmupSteps: { min: 0, max: 10000, default: 500 },
  weightDecay: { min: 0, max: 1, default: 0.01 },
  gradientAccumulation: { min: 1, max: 32, default: 4 },
  seed: { min: 0, max: 2147483647, default: 42 },
} as const;
