import type { SparseVector } from './featurize.ts';
import { argmax, scores, softmaxCrossEntropy } from './linear.ts';
import type { Params } from './params.ts';
import type { EvalMetrics } from './types.ts';

/**
 * Macro precision/recall/F1 from true and predicted class ids. Averaged over the classes that
 * occur in either (scikit-learn's default); an undefined ratio (no predictions of a class) counts 0.
 */
export function classificationMetrics(
  truth: readonly number[],
  predicted: readonly number[],
  classes: number,
): Omit<EvalMetrics, 'valLoss'> {
  const tp = new Array<number>(classes).fill(0);
  const predictedCount = new Array<number>(classes).fill(0);
  const trueCount = new Array<number>(classes).fill(0);
  let correct = 0;
  truth.forEach((t, i) => {
    const p = predicted[i] as number;
    trueCount[t] = (trueCount[t] as number) + 1;
    predictedCount[p] = (predictedCount[p] as number) + 1;
    if (p === t) {
      tp[t] = (tp[t] as number) + 1;
      correct++;
    }
  });
  let precision = 0;
  let recall = 0;
  let f1 = 0;
  let present = 0;
  for (let c = 0; c < classes; c++) {
    const hits = tp[c] as number;
    const inPredictions = predictedCount[c] as number;
    const inTruth = trueCount[c] as number;
    if (inPredictions === 0 && inTruth === 0) continue;
    present++;
    const p = inPredictions === 0 ? 0 : hits / inPredictions;
    const r = inTruth === 0 ? 0 : hits / inTruth;
    precision += p;
    recall += r;
    f1 += p + r === 0 ? 0 : (2 * p * r) / (p + r);
  }
  const n = Math.max(1, present);
  return {
    precision: precision / n,
    recall: recall / n,
    f1: f1 / n,
    accuracy: truth.length === 0 ? 0 : correct / truth.length,
  };
}

/** Mean cross-entropy and classification metrics of the model on the given examples. */
export function evaluate(
  params: Params,
  vectors: readonly SparseVector[],
  targets: readonly number[],
  indices: readonly number[],
): EvalMetrics {
  const probs = new Float64Array(params.classes);
  const truth: number[] = [];
  const predicted: number[] = [];
  let lossSum = 0;
  for (const i of indices) {
    const target = targets[i] as number;
    scores(params.weights, params.bias, params.classes, vectors[i] as SparseVector, probs);
    lossSum += softmaxCrossEntropy(probs, target);
    truth.push(target);
    predicted.push(argmax(probs));
  }
  return {
    valLoss: indices.length === 0 ? 0 : lossSum / indices.length,
    ...classificationMetrics(truth, predicted, params.classes),
  };
}
