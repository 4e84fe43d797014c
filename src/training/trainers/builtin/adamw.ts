import type { Params } from './params.ts';

export const ADAMW = { beta1: 0.9, beta2: 0.999, eps: 1e-8 } as const;

/**
 * AdamW on p[i] for i in rows × classes (the update rule of PyTorch's `torch.optim.AdamW`:
 * decoupled weight decay, bias-corrected moments). Reads the gradient times `gradScale`, then
 * zeroes it. One flat loop: this is the trainer's hot path.
 */
function update(
  p: Float32Array,
  m: Float32Array,
  v: Float32Array,
  g: Float64Array,
  active: Uint8Array,
  classes: number,
  lr: number,
  weightDecay: number,
  gradScale: number,
  t: number,
): void {
  const beta1 = ADAMW.beta1;
  const beta2 = ADAMW.beta2;
  const eps = ADAMW.eps;
  const decay = 1 - lr * weightDecay;
  const stepSize = lr / (1 - beta1 ** t);
  const bc2Sqrt = Math.sqrt(1 - beta2 ** t);
  // In bucket order: sequential memory access is several times faster than activation order.
  for (let b = 0; b < active.length; b++) {
    if (active[b] === 0) continue;
    const from = b * classes;
    const to = from + classes;
    for (let i = from; i < to; i++) {
      const grad = (g[i] as number) * gradScale;
      g[i] = 0;
      m[i] = beta1 * (m[i] as number) + (1 - beta1) * grad;
      v[i] = beta2 * (v[i] as number) + (1 - beta2) * grad * grad;
      // Uses the stored fp32 moments, so a resumed run computes from exactly the same state.
      const denom = Math.sqrt(v[i] as number) / bc2Sqrt + eps;
      p[i] = (p[i] as number) * decay - (stepSize * (m[i] as number)) / denom;
    }
  }
}

const BIAS_ROW = Uint8Array.of(1);

/**
 * One AdamW step with the summed gradients `gWeights`/`gBias` times `gradScale`; `t` is the
 * 1-based step number. Only active buckets are visited: the others have weights, moments and
 * gradient exactly 0, for which the update is exactly the identity. The bias is not decayed, as
 * in the usual transformer recipes.
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
  const { classes, active } = params;
  update(
    params.weights,
    params.mWeights,
    params.vWeights,
    gWeights,
    active,
    classes,
    lr,
    weightDecay,
    gradScale,
    t,
  );
  update(params.bias, params.mBias, params.vBias, gBias, BIAS_ROW, classes, lr, 0, gradScale, t);
}
