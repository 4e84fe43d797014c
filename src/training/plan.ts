import { and, desc, eq, gt, isNotNull, sql } from 'drizzle-orm';
import { countTrainingData, trainingLabelCounts } from '../dataset/stats.ts';
import type { Db } from '../db/client.ts';
import { trainingJobs } from '../db/schema.ts';
import { badInput } from '../vocabulary/errors.ts';
import type { PlanWarning, TrainingPlan } from '../vocabulary/evaluation.ts';
import type { TrainingConfig } from './config-schema.ts';
import { DEFAULT_VALIDATION_FRACTION, planSteps } from './trainers/builtin/index.ts';
import { stratifiedSplit } from './trainers/builtin/split.ts';
import type { Recommendation, Trainer } from './trainers/port.ts';

/** When the plan warns (docs/training.md). */
export const PLAN_THRESHOLDS = {
  /** FEW_STEPS below this many optimizer steps. */
  fewSteps: 50,
  /** TINY_VALIDATION below this many validation examples (or a label without any). */
  tinyValidation: 10,
  /** IMBALANCED_LABELS when the largest label count exceeds this multiple of the smallest. */
  imbalanceRatio: 10,
} as const;

/** How many recent completed runs the duration estimate is measured on. */
const RECENT_RUNS = 5;

/** A job's configuration with the trainer's choices filled in. */
export type ResolvedConfig = Omit<
  TrainingConfig,
  'learningRate' | 'warmupSteps' | 'warmupRatio'
> & {
  learningRate: number;
  warmupSteps: number;
  defaultsApplied: string[];
};

/**
 * The plan of a job with this configuration on the current data set, and its resolved config:
 * the split is computed by the trainer's own split function, the settings left out are the
 * trainer's recommendation for a run of that length. Refuses states without training data.
 */
export async function planJob(
  db: Db,
  trainer: Trainer,
  config: TrainingConfig,
): Promise<{ config: ResolvedConfig; plan: TrainingPlan }> {
  const [labels, data] = await Promise.all([
    trainingLabelCounts(db, config.bundeslaender),
    countTrainingData(db, config.bundeslaender),
  ]);
  if (data.documents === 0 || labels.length === 0) {
    throw badInput(
      'bundeslaender',
      `No training-allowed documents for ${config.bundeslaender.join(', ')}: import some first`,
    );
  }
  // Split sizes depend only on the labels: the texts are not needed here.
  const examples = labels.flatMap(({ label, count }) =>
    Array.from({ length: count }, () => ({ text: '', label })),
  );
  const split = stratifiedSplit(examples, DEFAULT_VALIDATION_FRACTION, config.seed);
  const steps = planSteps(
    split.train.length,
    config.batchSize,
    config.gradientAccumulation,
    config.epochs,
  );
  const { learningRate, warmupSteps, warmupRatio, ...rest } = config;
  const defaultsApplied: string[] = [];
  let recommendation: Promise<Recommendation> | undefined;
  // Asked only for a setting left out: a command trainer answers by running its command.
  const recommended = async (field: keyof Recommendation) => {
    defaultsApplied.push(field);
    recommendation ??= Promise.resolve(
      trainer.recommend({ trainExamples: split.train.length, totalSteps: steps.totalSteps }),
    );
    return (await recommendation)[field];
  };
  const resolved: ResolvedConfig = {
    ...rest,
    learningRate: learningRate ?? (await recommended('learningRate')),
    warmupSteps:
      warmupRatio != null
        ? Math.round(warmupRatio * steps.totalSteps)
        : (warmupSteps ?? (await recommended('warmupSteps'))),
    defaultsApplied,
  };
  const validationLabels = new Set(split.validation.map((i) => examples[i]?.label));
  const plan: TrainingPlan = {
    documents: data.documents,
    examples: examples.length,
    trainExamples: split.train.length,
    validationExamples: split.validation.length,
    labels,
    stepsPerEpoch: steps.stepsPerEpoch,
    totalSteps: steps.totalSteps,
    warmupSteps: resolved.warmupSteps,
    learningRate: resolved.learningRate,
    estimatedDurationMs: await estimateDurationMs(db, steps.totalSteps),
    warnings: planWarnings({
      totalSteps: steps.totalSteps,
      warmupSteps: resolved.warmupSteps,
      validationExamples: split.validation.length,
      labelsWithoutValidation: labels
        .filter(({ label }) => !validationLabels.has(label))
        .map(({ label }) => label),
      counts: labels.map(({ count }) => count),
    }),
  };
  return { config: resolved, plan };
}

export function planWarnings(p: {
  totalSteps: number;
  warmupSteps: number;
  validationExamples: number;
  labelsWithoutValidation: string[];
  counts: number[];
}): PlanWarning[] {
  const t = PLAN_THRESHOLDS;
  const warnings: PlanWarning[] = [];
  if (p.warmupSteps >= p.totalSteps) {
    warnings.push({
      code: 'WARMUP_EXCEEDS_RUN',
      message: `${p.warmupSteps} warm-up steps but only ${p.totalSteps} optimizer steps: the learning rate never reaches its peak`,
    });
  }
  if (p.totalSteps < t.fewSteps) {
    warnings.push({
      code: 'FEW_STEPS',
      message: `only ${p.totalSteps} optimizer steps (fewer than ${t.fewSteps}): more epochs, a smaller batch or less gradient accumulation give the model more updates`,
    });
  }
  if (p.validationExamples < t.tinyValidation || p.labelsWithoutValidation.length > 0) {
    const without = p.labelsWithoutValidation.length
      ? `; no validation example of ${p.labelsWithoutValidation.join(', ')}`
      : '';
    warnings.push({
      code: 'TINY_VALIDATION',
      message: `${p.validationExamples} validation examples${without}: the metrics will be noisy`,
    });
  }
  const largest = Math.max(...p.counts);
  const smallest = Math.min(...p.counts);
  if (largest > t.imbalanceRatio * smallest) {
    warnings.push({
      code: 'IMBALANCED_LABELS',
      message: `the largest label has ${largest} examples, the smallest ${smallest} (more than ${t.imbalanceRatio}×): watch macro-F1 and per-class recall, not accuracy`,
    });
  }
  return warnings;
}

/** Optimizer steps per millisecond measured on recent completed runs, times the steps. */
async function estimateDurationMs(db: Db, totalSteps: number): Promise<number | null> {
  const recent = db
    .select({
      steps: trainingJobs.totalSteps,
      ms: sql<number>`extract(epoch from ${trainingJobs.completedAt} - ${trainingJobs.startedAt}) * 1000`.as(
        'ms',
      ),
    })
    .from(trainingJobs)
    .where(
      and(
        eq(trainingJobs.status, 'COMPLETED'),
        isNotNull(trainingJobs.startedAt),
        isNotNull(trainingJobs.completedAt),
        gt(trainingJobs.totalSteps, 0),
      ),
    )
    .orderBy(desc(trainingJobs.completedAt))
    .limit(RECENT_RUNS)
    .as('recent');
  const [row] = await db
    .select({
      steps: sql<number>`sum(${recent.steps})`.mapWith(Number),
      ms: sql<number>`sum(${recent.ms})`.mapWith(Number),
    })
    .from(recent);
  if (!row?.steps || !row.ms || row.ms <= 0) return null;
  return Math.round((totalSteps * row.ms) / row.steps);
}
