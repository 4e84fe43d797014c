import type { FeatureConfig } from './types.ts';

/**
 * The one text → feature-vector function, shared by training and inference so that a stored
 * model always sees features built exactly as during training.
 */

export const DEFAULT_FEATURES: FeatureConfig = { buckets: 1 << 18, maxNgram: 2 };

/** A sparse, L2-normalised vector: bucket indices (ascending) and their values. */
export type SparseVector = { indices: Int32Array; values: Float64Array };

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const WORD = /\p{L}+/gu;

/** Lowercased letter runs; digits, punctuation and `§` separate words, umlauts and ß stay. */
export function tokenize(text: string): string[] {
  return text.toLowerCase().match(WORD) ?? [];
}

function fnv1a(hash: number, text: string): number {
  let h = hash;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h;
}

/** Hash of the n-gram tokens[start .. start+n); the basis depends on n so orders never mix. */
function ngramHash(tokens: readonly string[], start: number, n: number): number {
  let h = fnv1a(FNV_OFFSET ^ n, tokens[start] ?? '');
  for (let k = 1; k < n; k++) h = fnv1a(fnv1a(h, ' '), tokens[start + k] ?? '');
  return h >>> 0;
}

/** Hashed word n-grams (1..maxNgram), log-TF weighted (1 + ln tf), L2-normalised. */
export function featurize(text: string, features: FeatureConfig): SparseVector {
  const tokens = tokenize(text);
  const counts = new Map<number, number>();
  for (let n = 1; n <= features.maxNgram; n++) {
    for (let i = 0; i + n <= tokens.length; i++) {
      const bucket = ngramHash(tokens, i, n) % features.buckets;
      counts.set(bucket, (counts.get(bucket) ?? 0) + 1);
    }
  }
  const indices = Int32Array.from(counts.keys()).sort();
  const values = new Float64Array(indices.length);
  let norm = 0;
  for (let i = 0; i < indices.length; i++) {
    const value = 1 + Math.log(counts.get(indices[i] as number) as number);
    values[i] = value;
    norm += value * value;
  }
  if (norm > 0) {
    const scale = 1 / Math.sqrt(norm);
    for (let i = 0; i < values.length; i++) values[i] = (values[i] as number) * scale;
  }
  return { indices, values };
}
