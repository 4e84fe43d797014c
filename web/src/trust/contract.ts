/**
 * The shapes of the "Training people can trust" additions in CONTRACT.md, which schema.graphql
 * does not have yet. The components of this folder are written against them; once the schema has
 * the fields, each type becomes the `ResultOf` of the operation that selects it, and the
 * components go into the pages (see README, Dashboard, "Still to come").
 */
export type PlanWarning = { code: string; message: string };

export type TrainingPlan = {
  documents: number;
  examples: number;
  trainExamples: number;
  validationExamples: number;
  labels: ReadonlyArray<{ label: string; count: number }>;
  stepsPerEpoch: number;
  totalSteps: number;
  warmupSteps: number;
  learningRate: number;
  estimatedDurationMs: number | null;
  warnings: readonly PlanWarning[];
};

export type ClassMetrics = {
  label: string;
  precision: number;
  recall: number;
  f1Score: number;
  support: number;
};

/** TrainingMetrics' added fields (null until the job has validated), with `accuracy`. */
export type ValidationReport = {
  accuracy: number;
  macroF1: number | null;
  baselineAccuracy: number | null;
  baselineF1: number | null;
  perClass: readonly ClassMetrics[];
  /** rows = true label, columns = predicted, in perClass order */
  confusionMatrix: ReadonlyArray<readonly number[]> | null;
};

export type ActivationEvaluation = {
  decision: string;
  reason: string;
  challengerF1: number;
  championVersion: { version: string } | null;
  championF1: number | null;
  baselineF1: number;
};

export type ModelActivation = {
  version: { version: string } | null;
  previous: { version: string } | null;
  at: string;
  by: string;
  reason: string;
};
