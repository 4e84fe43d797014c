import type { SparseVector } from './featurize.ts';
import { scores, softmaxCrossEntropy } from './linear.ts';
import { activate, type Params } from './params.ts';

/**
 * Adds the cross-entropy gradient of one example to gWeights/gBias (unscaled sum; the optimizer
 * divides by the number of examples) and returns its loss. `probs` is scratch of length classes.
 */
export function accumulateGradient(
  params: Params,
  x: SparseVector,
  target: number,
  gWeights: Float64Array,
  gBias: Float64Array,
  probs: Float64Array,
): number {
  const k = params.classes;
  scores(params.weights, params.bias, k, x, probs);
  const loss = softmaxCrossEntropy(probs, target);
  // d loss / d logit_c = p_c - [c = target]
  probs[target] = (probs[target] as number) - 1;
  for (let c = 0; c < k; c++) gBias[c] = (gBias[c] as number) + (probs[c] as number);
  const { indices, values } = x;
  for (let j = 0; j < indices.length; j++) {
    const bucket = indices[j] as number;
    activate(params, bucket);
    const base = bucket * k;
    const xv = values[j] as number;
    for (let c = 0; c < k; c++)
      gWeights[base + c] = (gWeights[base + c] as number) + xv * (probs[c] as number);
  }
  return loss;
}
