import { z } from 'zod';
import { ACTIVATION_POLICIES, BUNDESLAND_CODES, MODEL_TYPES } from './constants.ts';

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

const L = CONFIG_LIMITS;
const range = (name: string, min: number, max: number) =>
  `${name} must be between ${min} and ${max}`;

const int = (name: keyof typeof L & string) => {
  const { min, max } = L[name];
  return z
    .number({ error: `${name} must be an integer between ${min} and ${max}` })
    .int({ error: `${name} must be an integer between ${min} and ${max}` })
    .min(min, { error: range(name, min, max) })
    .max(max, { error: range(name, min, max) });
};

const float = (name: keyof typeof L & string) => {
  const { min, max } = L[name];
  return z
    .number({ error: `${name} must be a number between ${min} and ${max}` })
    .min(min, { error: range(name, min, max) })
    .max(max, { error: range(name, min, max) });
};

export const trainingConfigSchema = z
  .object({
    name: z
      .string()
      .trim()
      .min(L.name.min, { error: `name must be ${L.name.min} to ${L.name.max} characters` })
      .max(L.name.max, { error: `name must be ${L.name.min} to ${L.name.max} characters` }),
    modelType: z.enum(MODEL_TYPES).default('ZEUGNIS'),
    bundeslaender: z
      .array(
        z.enum(BUNDESLAND_CODES as [string, ...string[]], {
          error: `bundeslaender: each entry must be one of ${BUNDESLAND_CODES.join(' ')}`,
        }),
      )
      .min(L.bundeslaender.min, { error: 'bundeslaender must name 1 to 16 German states' })
      .max(L.bundeslaender.max, { error: 'bundeslaender must name 1 to 16 German states' })
      .refine((codes) => new Set(codes).size === codes.length, {
        error: 'bundeslaender must not name a state twice',
      }),
    batchSize: int('batchSize').default(L.batchSize.default),
    // null (an explicit GraphQL null) counts as left out
    learningRate: float('learningRate').nullish(),
    epochs: int('epochs').default(L.epochs.default),
    warmupSteps: int('warmupSteps').nullish(),
    warmupRatio: float('warmupRatio').nullish(),
    weightDecay: float('weightDecay').default(L.weightDecay.default),
    gradientAccumulation: int('gradientAccumulation').default(L.gradientAccumulation.default),
    mixedPrecision: z.boolean().default(true),
    seed: int('seed').default(L.seed.default),
    activation: z.enum(ACTIVATION_POLICIES).default('IF_BETTER'),
  })
  .refine((c) => c.warmupSteps == null || c.warmupRatio == null, {
    error: 'give warmupSteps or warmupRatio, not both',
    path: ['warmupRatio'],
  });

export type TrainingConfigInput = z.input<typeof trainingConfigSchema>;
export type TrainingConfig = z.output<typeof trainingConfigSchema>;

/** Human description of a numeric limit, for the schema docs. */
export function describeLimit(field: keyof typeof CONFIG_LIMITS): string {
  const l = CONFIG_LIMITS[field];
  const dflt = 'default' in l ? ` Default ${l.default}.` : '';
  return `Allowed ${l.min}..${l.max}.${dflt}`;
}
