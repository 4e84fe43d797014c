/**
 * Weights and AdamW moments, all fp32. `active` marks buckets that ever got a gradient: the
 * others have weights and moments exactly 0, and for them an AdamW update with zero gradient is
 * exactly the identity, so skipping them is exact (not a lazy approximation).
 */
export type Params = {
  classes: number;
  buckets: number;
  weights: Float32Array;
  bias: Float32Array;
  mWeights: Float32Array;
  vWeights: Float32Array;
  mBias: Float32Array;
  vBias: Float32Array;
  /** 1 for active buckets. */
  active: Uint8Array;
  activeCount: number;
};

export function createParams(buckets: number, classes: number): Params {
  return {
    classes,
    buckets,
    weights: new Float32Array(buckets * classes),
    bias: new Float32Array(classes),
    mWeights: new Float32Array(buckets * classes),
    vWeights: new Float32Array(buckets * classes),
    mBias: new Float32Array(classes),
    vBias: new Float32Array(classes),
    active: new Uint8Array(buckets),
    activeCount: 0,
  };
}

export function activate(params: Params, bucket: number): void {
  if (params.active[bucket] === 1) return;
  params.active[bucket] = 1;
  params.activeCount++;
}

/** The active buckets, ascending. */
export function activeBuckets(params: Params): Int32Array {
  const out = new Int32Array(params.activeCount);
  let n = 0;
  for (let b = 0; b < params.buckets; b++) if (params.active[b] === 1) out[n++] = b;
  return out;
}
