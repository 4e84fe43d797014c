import { decodeContainer, encodeContainer, section } from './binary.ts';
import { activeBuckets, createParams, type Params } from './params.ts';

/**
 * Where a run stands between two optimizer steps. The data order is not stored: each epoch's
 * order is a pure function of (seed, epoch), so epoch and batch fix it.
 */
export type RunPosition = {
  /** Optimizer steps done (the AdamW `t` and the schedule position). */
  step: number;
  /** 0-based epoch in progress; equals `epochs` once all epochs are done. */
  epoch: number;
  /** Batches of this epoch already consumed (always at an optimizer-step boundary). */
  batch: number;
};

export type CheckpointHeader = RunPosition & {
  /** Hash of examples, config and feature settings: a checkpoint only resumes its own run. */
  fingerprint: string;
  totalSteps: number;
  labels: string[];
  buckets: number;
  classes: number;
  activeCount: number;
};

const MAGIC = 'TCKP';
const VERSION = 1;
const WHAT = 'trainer checkpoint';

/** Weights and moments of the active buckets only: everything else is exactly zero. */
export function encodeCheckpoint(
  header: Omit<CheckpointHeader, 'buckets' | 'classes' | 'activeCount'>,
  params: Params,
): Uint8Array {
  const { classes: k, activeCount } = params;
  const active = activeBuckets(params);
  const rows = (source: Float32Array) => {
    const out = new Float32Array(activeCount * k);
    for (let r = 0; r < activeCount; r++) {
      const from = (active[r] as number) * k;
      for (let c = 0; c < k; c++) out[r * k + c] = source[from + c] as number;
    }
    return out;
  };
  const full: CheckpointHeader = {
    ...header,
    buckets: params.buckets,
    classes: k,
    activeCount,
  };
  return encodeContainer(MAGIC, VERSION, full, [
    active,
    rows(params.weights),
    rows(params.mWeights),
    rows(params.vWeights),
    params.bias,
    params.mBias,
    params.vBias,
  ]);
}

export function decodeCheckpoint(bytes: Uint8Array): { header: CheckpointHeader; params: Params } {
  const decoded = decodeContainer<CheckpointHeader>(bytes, MAGIC, VERSION, WHAT);
  const { header } = decoded;
  const { buckets, classes: k, activeCount } = header;
  const active = section(decoded, 0, Int32Array, activeCount, WHAT);
  const params = createParams(buckets, k);
  const fill = (index: number, target: Float32Array) => {
    const rows = section(decoded, index, Float32Array, activeCount * k, WHAT);
    for (let r = 0; r < activeCount; r++) {
      const to = (active[r] as number) * k;
      for (let c = 0; c < k; c++) target[to + c] = rows[r * k + c] as number;
    }
  };
  for (const bucket of active) {
    if (bucket < 0 || bucket >= buckets || params.active[bucket] === 1)
      throw new Error(`${WHAT}: bucket ${bucket} out of range or repeated`);
    params.active[bucket] = 1;
  }
  params.activeCount = activeCount;
  fill(1, params.weights);
  fill(2, params.mWeights);
  fill(3, params.vWeights);
  params.bias.set(section(decoded, 4, Float32Array, k, WHAT));
  params.mBias.set(section(decoded, 5, Float32Array, k, WHAT));
  params.vBias.set(section(decoded, 6, Float32Array, k, WHAT));
  return { header, params };
}
