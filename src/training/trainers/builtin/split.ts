import { deriveSeed, mulberry32, shuffleInPlace } from './prng.ts';
import type { Example } from './types.ts';

export type Split = {
  /** Sorted distinct labels; a label's index is its class id. */
  labels: string[];
  /** Example indices, ascending. */
  train: number[];
  validation: number[];
};

/** The PRNG stream used for the split; epochs use streams 1, 2, ... */
export const SPLIT_STREAM = 0;

/**
 * Stratified hold-out: each class gives round(n * fraction) of its examples to validation, at
 * least one when it has two or more, and always keeps at least one for training.
 */
export function stratifiedSplit(
  examples: readonly Example[],
  fraction: number,
  seed: number,
): Split {
  const byLabel = new Map<string, number[]>();
  examples.forEach((example, index) => {
    const members = byLabel.get(example.label) ?? [];
    members.push(index);
    byLabel.set(example.label, members);
  });
  const labels = [...byLabel.keys()].sort();
  const random = mulberry32(deriveSeed(seed, SPLIT_STREAM));
  const train: number[] = [];
  const validation: number[] = [];
  for (const label of labels) {
    const members = shuffleInPlace([...(byLabel.get(label) ?? [])], random);
    const n = members.length;
    const held = n < 2 ? 0 : Math.min(n - 1, Math.max(1, Math.round(n * fraction)));
    validation.push(...members.slice(0, held));
    train.push(...members.slice(held));
  }
  const ascending = (a: number, b: number) => a - b;
  return { labels, train: train.sort(ascending), validation: validation.sort(ascending) };
}

/** The training order of a 0-based epoch: a pure function of (seed, epoch), so resumable. */
export function epochOrder(train: readonly number[], seed: number, epoch: number): number[] {
  return shuffleInPlace([...train], mulberry32(deriveSeed(seed, SPLIT_STREAM + 1 + epoch)));
}
