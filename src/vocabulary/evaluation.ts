/**
 * The shapes of a job's plan, its evaluation report and a version's activation decision: stored
 * as JSON in the database, computed by the training domain, shown by the API.
 */

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

export type ClassMetrics = {
  label: string;
  precision: number;
  recall: number;
  f1Score: number;
  /** Validation examples of this label. */
  support: number;
};

export type EvaluationReport = {
  macroF1: number;
  /** Accuracy of always predicting the training split's most common label. */
  baselineAccuracy: number;
  baselineF1: number;
  perClass: ClassMetrics[];
  /** Rows = true label, columns = predicted, in `perClass` order; null when nothing predicted. */
  confusionMatrix: number[][] | null;
};

export type ActivationDecision = 'ACTIVATED' | 'KEPT_CHAMPION' | 'BELOW_BASELINE' | 'MANUAL';

/** Stored on a version: how it was judged when its job completed. */
export type ActivationEvaluation = {
  decision: ActivationDecision;
  reason: string;
  /** This version's macro-F1 on its job's validation split. */
  challengerF1: number;
  /** The version active when this one was judged. */
  championVersionId: string | null;
  /** That version's macro-F1 on the same split; null when none, or when it cannot be scored here. */
  championF1: number | null;
  baselineF1: number;
};
