import type { Params } from './params.ts';

export const ADAMW = { beta1: 0.9, beta2: 0.999, eps: 1e-8 } as const;

type StepHyper = {
  lr: number;
  weightDecay: number;
  gradScale: number;
  bc1: number;
  bc2Sqrt: number;
};

/** AdamW on p[from..to), the update rule of PyTorch's `torch.optim.AdamW`; zeroes the gradient read. */
function update(
  p: Float32Array,
  m: Float32Array,
  v: Float32Array,
  g: Float64Array,
  from: number,
  to: number,
  h: StepHyper,
): void {
  const { beta1, beta2, eps } = ADAMW;
  const decay = 1 - h.lr * h.weightDecay;
  const stepSize = h.lr / h.bc1;
  for (let i = from; i < to; i++) {
    const grad = (g[i] as number) * h.gradScale;
    g[i] = 0;
    const mi = beta1 * (m[i] as number) + (1 - beta1) * grad;
    const vi = beta2 * (v[i] as number) + (1 - beta2) * grad * grad;
    m[i] = mi;
    v[i] = vi;
    // Read back the stored fp32 moments so the step uses exactly the state a checkpoint holds.
    const denom = Math.sqrt(v[i] as number) / h.bc2Sqrt + eps;
    p[i] = (p[i] as number) * decay - (stepSize * (m[i] as number)) / denom;
  }
}

/**
 * One AdamW step (decoupled weight decay, bias correction) with the summed gradients
 * `gWeights`/`gBias` times `gradScale`. `t` is the 1-based step number. The bias is not decayed,
 * as in the usual transformer recipes.
 */
export function adamwStep(
  params: Params,
  gWeights: Float64Array,
  gBias: Float64Array,
  t: number,
  lr: number,
  weightDecay: number,
  gradScale: number,
): void {
  const bc1 = 1 - ADAMW.beta1 ** t;
  const bc2Sqrt = Math.sqrt(1 - ADAMW.beta2 ** t);
  const hyper = { lr, weightDecay, gradScale, bc1, bc2Sqrt };
  const k = params.classes;
  for (let r = 0; r < params.activeCount; r++) {
    const from = (params.activeList[r] as number) * k;
    update(params.weights, params.mWeights, params.vWeights, gWeights, from, from + k, hyper);
  }
  update(params.bias, params.mBias, params.vBias, gBias, 0, k, { ...hyper, weightDecay: 0 });
}
