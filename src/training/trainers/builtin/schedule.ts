/** The optimizer-step plan of a run and its learning-rate schedule. */

export type StepPlan = {
  batchesPerEpoch: number;
  stepsPerEpoch: number;
  totalSteps: number;
};

/** One optimizer step per `gradientAccumulation` batches; an epoch's last partial group still steps. */
export function planSteps(
  trainSize: number,
  batchSize: number,
  gradientAccumulation: number,
  epochs: number,
): StepPlan {
  const batchesPerEpoch = Math.ceil(trainSize / batchSize);
  const stepsPerEpoch = Math.ceil(batchesPerEpoch / gradientAccumulation);
  return { batchesPerEpoch, stepsPerEpoch, totalSteps: epochs * stepsPerEpoch };
}

/**
 * The learning rate of the optimizer step with 0-based index `stepIndex`: linear warmup from 0
 * over `warmupSteps` steps, then linear decay reaching 0 at `totalSteps` (the same curve as
 * Hugging Face's `get_linear_schedule_with_warmup`).
 */
export function learningRateAt(
  stepIndex: number,
  peak: number,
  warmupSteps: number,
  totalSteps: number,
): number {
  if (stepIndex < warmupSteps) return (peak * stepIndex) / warmupSteps;
  return peak * Math.max(0, (totalSteps - stepIndex) / Math.max(1, totalSteps - warmupSteps));
}
