/** What a training job is expected to do, computed before it runs (training/plan.ts). */

export const PLAN_WARNING_CODES = [
  'WARMUP_EXCEEDS_RUN',
  'FEW_STEPS',
  'TINY_VALIDATION',
  'IMBALANCED_LABELS',
] as const;
export type PlanWarningCode = (typeof PLAN_WARNING_CODES)[number];

export type PlanWarning = { code: PlanWarningCode; message: string };

export type TrainingPlan = {
  /** Training-allowed documents of the chosen states. */
  documents: number;
  /** Their chunks: the labelled examples. */
  examples: number;
  trainExamples: number;
  validationExamples: number;
  /** Examples per label, most common first. */
  labels: { label: string; count: number }[];
  stepsPerEpoch: number;
  totalSteps: number;
  /** The resolved warm-up and peak learning rate (given, or the trainer's recommendation). */
  warmupSteps: number;
  learningRate: number;
  /** From the measured step rate of recent completed runs; null when there are none. */
  estimatedDurationMs: number | null;
  warnings: PlanWarning[];
};
