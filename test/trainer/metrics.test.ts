import { describe, expect, it } from 'vitest';
import { classificationMetrics } from '../../src/training/trainers/builtin/metrics.ts';

describe('classificationMetrics', () => {
  it('computes macro precision, recall, F1 and accuracy', () => {
    // class 0: tp 2, fp 1, fn 1; class 1: tp 1, fp 1, fn 1; class 2: tp 1, fp 0, fn 0
    const truth = [0, 0, 0, 1, 1, 2];
    const predicted = [0, 0, 1, 1, 0, 2];
    const m = classificationMetrics(truth, predicted, 3);
    const p = [2 / 3, 1 / 2, 1];
    const r = [2 / 3, 1 / 2, 1];
    const f1 = p.map((pc, c) => (2 * pc * (r[c] as number)) / (pc + (r[c] as number)));
    expect(m.precision).toBeCloseTo((2 / 3 + 1 / 2 + 1) / 3, 12);
    expect(m.recall).toBeCloseTo((2 / 3 + 1 / 2 + 1) / 3, 12);
    expect(m.f1).toBeCloseTo(f1.reduce((a, b) => a + b) / 3, 12);
    expect(m.accuracy).toBeCloseTo(4 / 6, 12);
  });

  it('counts a never-predicted class as precision 0 and skips absent classes', () => {
    const m = classificationMetrics([0, 1, 1], [0, 0, 0], 4);
    // class 0: p 1/3 r 1; class 1: p 0 r 0; classes 2, 3 absent
    expect(m.precision).toBeCloseTo(1 / 6, 12);
    expect(m.recall).toBeCloseTo(1 / 2, 12);
    expect(m.f1).toBeCloseTo(0.5 / 2, 12);
    expect(m.accuracy).toBeCloseTo(1 / 3, 12);
  });
});
