import { z } from 'zod';
import { BUNDESLAND_CODES } from '../vocabulary/bundeslaender.ts';
import { ACTIVATION_POLICIES, CONFIG_LIMITS, MODEL_TYPES } from '../vocabulary/training.ts';

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
