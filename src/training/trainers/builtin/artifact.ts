import { decodeContainer, encodeContainer, section } from './binary.ts';
import type { FeatureConfig } from './types.ts';

/** A trained classifier as inference needs it: labels, feature settings and dense weights. */
export type Model = {
  labels: string[];
  features: FeatureConfig;
  weights: Float32Array;
  bias: Float32Array;
};

type ArtifactHeader = {
  format: 'hashed-ngram-softmax';
  labels: string[];
  buckets: number;
  maxNgram: number;
  /** Describes featurize.ts, so a reader knows what produced the features. */
  featurizer: 'lowercase-letter-runs/fnv1a32/log-tf/l2';
  rows: number;
};

const MAGIC = 'TCLS';
const VERSION = 1;
const WHAT = 'model artifact';

/** Whether bytes start like an artifact of this trainer (an external trainer's model does not). */
export function isBuiltinArtifact(bytes: Uint8Array): boolean {
  return (
    bytes.byteLength >= MAGIC.length &&
    Buffer.from(bytes.subarray(0, MAGIC.length)).toString('latin1') === MAGIC
  );
}

/** Compact: only the weight rows of buckets with a non-zero weight are stored (fp32). */
export function encodeArtifact(model: Model): Uint8Array {
  const k = model.labels.length;
  const { buckets, maxNgram } = model.features;
  const kept: number[] = [];
  for (let b = 0; b < buckets; b++) {
    for (let c = 0; c < k; c++) {
      if (model.weights[b * k + c] !== 0) {
        kept.push(b);
        break;
      }
    }
  }
  const rows = new Float32Array(kept.length * k);
  kept.forEach((b, r) => {
    rows.set(model.weights.subarray(b * k, b * k + k), r * k);
  });
  const header: ArtifactHeader = {
    format: 'hashed-ngram-softmax',
    labels: model.labels,
    buckets,
    maxNgram,
    featurizer: 'lowercase-letter-runs/fnv1a32/log-tf/l2',
    rows: kept.length,
  };
  return encodeContainer(MAGIC, VERSION, header, [Int32Array.from(kept), rows, model.bias]);
}

export function decodeArtifact(bytes: Uint8Array): Model {
  const decoded = decodeContainer<ArtifactHeader>(bytes, MAGIC, VERSION, WHAT);
  const { labels, buckets, maxNgram, rows } = decoded.header;
  const k = labels.length;
  const kept = section(decoded, 0, Int32Array, rows, WHAT);
  const packed = section(decoded, 1, Float32Array, rows * k, WHAT);
  const weights = new Float32Array(buckets * k);
  kept.forEach((b, r) => {
    if (b < 0 || b >= buckets) throw new Error(`${WHAT}: bucket ${b} out of range`);
    weights.set(packed.subarray(r * k, r * k + k), b * k);
  });
  return {
    labels,
    features: { buckets, maxNgram },
    weights,
    bias: section(decoded, 2, Float32Array, k, WHAT),
  };
}
