import { describe, expect, it } from 'vitest';
import { adamwStep } from '../../src/training/trainers/builtin/adamw.ts';
import { activate, createParams } from '../../src/training/trainers/builtin/params.ts';

/** Textbook AdamW (Loshchilov & Hutter, PyTorch form) on one scalar, in float64. */
function referenceAdamW(grads: number[], lrs: number[], wd: number, p0: number): number[] {
  let p = p0;
  let m = 0;
  let v = 0;
  const out: number[] = [];
  grads.forEach((g, i) => {
    const t = i + 1;
    const lr = lrs[i] as number;
    p *= 1 - lr * wd;
    m = 0.9 * m + 0.1 * g;
    v = 0.999 * v + 0.001 * g * g;
    const mHat = m / (1 - 0.9 ** t);
    const vHat = v / (1 - 0.999 ** t);
    p -= (lr * mHat) / (Math.sqrt(vHat) + 1e-8);
    out.push(p);
  });
  return out;
}

describe('adamwStep', () => {
  it('follows AdamW with bias correction and decoupled weight decay (fp32 storage)', () => {
    const grads = [0.5, -0.2, 0.3, 0, 0.1, -0.7, 0.05];
    const lrs = [0.01, 0.02, 0.03, 0.03, 0.02, 0.01, 0.005];
    const params = createParams(1, 1);
    params.weights[0] = 0.25;
    activate(params, 0);
    const g = new Float64Array(1);
    const gBias = new Float64Array(1);
    const expected = referenceAdamW(grads, lrs, 0.1, 0.25);
    const expectedBias = referenceAdamW(grads, lrs, 0, 0);
    grads.forEach((grad, i) => {
      // Summed gradient of 4 examples, scaled by 1/4 inside the step.
      g[0] = grad * 4;
      gBias[0] = grad * 4;
      adamwStep(params, g, gBias, i + 1, lrs[i] as number, 0.1, 1 / 4);
      expect(g[0]).toBe(0);
      expect(params.weights[0]).toBeCloseTo(expected[i] as number, 6);
      expect(params.bias[0]).toBeCloseTo(expectedBias[i] as number, 6);
    });
    // The bias is not decayed: with decay the two curves differ.
    expect(params.weights[0]).not.toBeCloseTo(params.bias[0] as number, 3);
  });

  it('skipping never-touched buckets gives bit-identical results to a dense update', () => {
    const buckets = 16;
    const classes = 3;
    const sparse = createParams(buckets, classes);
    const dense = createParams(buckets, classes);
    for (let b = 0; b < buckets; b++) activate(dense, b);
    const touchedAt = [[1, 2], [2, 5], [9], [], [1, 14, 15], [3]];
    touchedAt.forEach((touched, i) => {
      const gSparse = new Float64Array(buckets * classes);
      const gDense = new Float64Array(buckets * classes);
      const gBias = Float64Array.from([0.1, -0.2, 0.1]);
      for (const b of touched) {
        activate(sparse, b);
        for (let c = 0; c < classes; c++) {
          const value = Math.sin(b * 7 + c * 3 + i);
          gSparse[b * classes + c] = value;
          gDense[b * classes + c] = value;
        }
      }
      adamwStep(sparse, gSparse, Float64Array.from(gBias), i + 1, 0.05, 0.3, 0.5);
      adamwStep(dense, gDense, Float64Array.from(gBias), i + 1, 0.05, 0.3, 0.5);
    });
    expect(sparse.activeCount).toBe(7);
    const bytes = (a: Float32Array) => new Uint8Array(a.buffer);
    expect(bytes(sparse.weights)).toEqual(bytes(dense.weights));
    expect(bytes(sparse.mWeights)).toEqual(bytes(dense.mWeights));
    expect(bytes(sparse.vWeights)).toEqual(bytes(dense.vWeights));
    expect(bytes(sparse.bias)).toEqual(bytes(dense.bias));
    // Buckets touched early keep moving under decay and momentum after their last gradient.
    expect(sparse.weights[classes]).not.toBe(0);
  });
});
