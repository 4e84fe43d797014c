import type { SparseVector } from './featurize.ts';

/**
 * The model: one weight row of `classes` values per hash bucket plus a bias per class;
 * softmax over the class scores. Shared by training, evaluation and inference.
 */

/** Class scores (logits) of x into `out`. */
export function scores(
  weights: Float32Array,
  bias: Float32Array,
  classes: number,
  x: SparseVector,
  out: Float64Array,
): void {
  for (let c = 0; c < classes; c++) out[c] = bias[c] as number;
  const { indices, values } = x;
  for (let j = 0; j < indices.length; j++) {
    const base = (indices[j] as number) * classes;
    const xv = values[j] as number;
    for (let c = 0; c < classes; c++)
      out[c] = (out[c] as number) + xv * (weights[base + c] as number);
  }
}

/** Turns logits into probabilities in place and returns log-sum-exp (for the cross-entropy). */
export function softmaxInPlace(logits: Float64Array): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < logits.length; c++) max = Math.max(max, logits[c] as number);
  let sum = 0;
  for (let c = 0; c < logits.length; c++) sum += Math.exp((logits[c] as number) - max);
  const lse = max + Math.log(sum);
  for (let c = 0; c < logits.length; c++) logits[c] = Math.exp((logits[c] as number) - lse);
  return lse;
}

/** Turns logits into probabilities in place and returns the cross-entropy -log p(target). */
export function softmaxCrossEntropy(logits: Float64Array, target: number): number {
  const logit = logits[target] as number;
  return softmaxInPlace(logits) - logit;
}

/** Index of the largest value; ties go to the lowest index. */
export function argmax(values: Float64Array): number {
  let best = 0;
  for (let c = 1; c < values.length; c++)
    if ((values[c] as number) > (values[best] as number)) best = c;
  return best;
}
