import { describe, expect, it } from 'vitest';
import { epochOrder, stratifiedSplit } from '../../src/training/trainers/builtin/split.ts';
import type { Example } from '../../src/training/trainers/builtin/types.ts';

const examples = (counts: Record<string, number>): Example[] =>
  Object.entries(counts).flatMap(([label, n]) =>
    Array.from({ length: n }, (_, i) => ({ text: `${label} ${i}`, label })),
  );

describe('stratifiedSplit', () => {
  it('holds out ~15% of each class, at least one per class with two or more examples', () => {
    const data = examples({ erlass: 40, handreichung: 20, schulordnung: 3, verordnung: 1 });
    const { labels, train, validation } = stratifiedSplit(data, 0.15, 1);
    expect(labels).toEqual(['erlass', 'handreichung', 'schulordnung', 'verordnung']);
    const held = (label: string) => validation.filter((i) => data[i]?.label === label).length;
    expect([
      held('erlass'),
      held('handreichung'),
      held('schulordnung'),
      held('verordnung'),
    ]).toEqual([6, 3, 1, 0]);
    expect([...train, ...validation].sort((a, b) => a - b)).toEqual(data.map((_, i) => i));
  });

  it('is a function of the seed', () => {
    const data = examples({ a: 30, b: 30 });
    expect(stratifiedSplit(data, 0.15, 7)).toEqual(stratifiedSplit(data, 0.15, 7));
    expect(stratifiedSplit(data, 0.15, 7).validation).not.toEqual(
      stratifiedSplit(data, 0.15, 8).validation,
    );
  });
});

describe('epochOrder', () => {
  it('is a seeded permutation that differs between epochs', () => {
    const train = Array.from({ length: 50 }, (_, i) => i * 2);
    const first = epochOrder(train, 3, 0);
    expect([...first].sort((a, b) => a - b)).toEqual(train);
    expect(epochOrder(train, 3, 0)).toEqual(first);
    expect(epochOrder(train, 3, 1)).not.toEqual(first);
    expect(epochOrder(train, 4, 0)).not.toEqual(first);
  });
});
