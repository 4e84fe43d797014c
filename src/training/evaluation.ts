import type { ClassMetrics, EvaluationReport } from '../vocabulary/evaluation.ts';

/**
 * Honest evaluation of a classifier on a validation split: per-class metrics, the confusion
 * matrix, and the majority-class baseline on the same split, so a score can be judged.
 */

export type Scores = {
  macroF1: number;
  accuracy: number;
  perClass: ClassMetrics[];
  matrix: number[][];
};

/**
 * Scores predictions against the truth. Labels are `labels` in order, then any other label that
 * occurs; macro-F1 averages over the labels that occur in the truth or the predictions (as
 * scikit-learn does), an undefined ratio counting 0.
 */
export function scorePredictions(
  truth: readonly string[],
  predicted: readonly string[],
  labels: readonly string[],
): Scores {
  const order = [...labels];
  for (const label of [...truth, ...predicted]) if (!order.includes(label)) order.push(label);
  const index = new Map(order.map((label, i) => [label, i]));
  const matrix = order.map(() => order.map(() => 0));
  let correct = 0;
  truth.forEach((t, i) => {
    const row = matrix[index.get(t) as number] as number[];
    const column = index.get(predicted[i] as string) as number;
    row[column] = (row[column] as number) + 1;
    if (t === predicted[i]) correct++;
  });
  let f1Sum = 0;
  let present = 0;
  const perClass = order.map((label, c) => {
    const hits = (matrix[c] as number[])[c] as number;
    const support = (matrix[c] as number[]).reduce((a, b) => a + b, 0);
    const predictedCount = matrix.reduce((sum, row) => sum + (row[c] as number), 0);
    const precision = predictedCount === 0 ? 0 : hits / predictedCount;
    const recall = support === 0 ? 0 : hits / support;
    const f1Score = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    if (support > 0 || predictedCount > 0) {
      present++;
      f1Sum += f1Score;
    }
    return { label, precision, recall, f1Score, support };
  });
  return {
    macroF1: present === 0 ? 0 : f1Sum / present,
    accuracy: truth.length === 0 ? 0 : correct / truth.length,
    perClass,
    matrix,
  };
}

/** The label a majority-class baseline predicts: the most common in training (ties: first sorted). */
export function majorityLabel(trainLabels: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const label of trainLabels) counts.set(label, (counts.get(label) ?? 0) + 1);
  let best = '';
  let bestCount = -1;
  for (const [label, n] of [...counts].sort(([a], [b]) => a.localeCompare(b))) {
    if (n > bestCount) [best, bestCount] = [label, n];
  }
  return best;
}

/**
 * The report of a model's predictions on the validation split (`predicted` null: the model
 * cannot be run here, so only the trainer's own macro-F1 is known).
 */
export function evaluationReport(input: {
  labels: readonly string[];
  trainLabels: readonly string[];
  truth: readonly string[];
  predicted: readonly string[] | null;
  trainerMacroF1: number;
}): EvaluationReport {
  const majority = majorityLabel(input.trainLabels);
  const baseline = scorePredictions(
    input.truth,
    input.truth.map(() => majority),
    input.labels,
  );
  const scores = input.predicted
    ? scorePredictions(input.truth, input.predicted, input.labels)
    : null;
  return {
    macroF1: scores?.macroF1 ?? input.trainerMacroF1,
    baselineAccuracy: baseline.accuracy,
    baselineF1: baseline.macroF1,
    perClass: scores?.perClass ?? [],
    confusionMatrix: scores?.matrix ?? null,
  };
}
