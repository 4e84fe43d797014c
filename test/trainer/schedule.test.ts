import { describe, expect, it } from 'vitest';
import { learningRateAt, planSteps } from '../../src/training/trainers/builtin/schedule.ts';

describe('planSteps', () => {
  it('counts optimizer steps as epochs * ceil(ceil(train / batch) / accumulation)', () => {
    expect(planSteps(100, 8, 4, 3)).toEqual({
      batchesPerEpoch: 13,
      stepsPerEpoch: 4,
      totalSteps: 12,
    });
    expect(planSteps(96, 8, 4, 2)).toEqual({
      batchesPerEpoch: 12,
      stepsPerEpoch: 3,
      totalSteps: 6,
    });
    expect(planSteps(5, 16, 1, 10)).toEqual({
      batchesPerEpoch: 1,
      stepsPerEpoch: 1,
      totalSteps: 10,
    });
    expect(planSteps(7, 1, 32, 1)).toEqual({ batchesPerEpoch: 7, stepsPerEpoch: 1, totalSteps: 1 });
  });
});

describe('learningRateAt', () => {
  it('warms up linearly from 0, then decays linearly to 0 at totalSteps', () => {
    const lr = (i: number) => learningRateAt(i, 0.1, 4, 20);
    expect(lr(0)).toBe(0);
    expect(lr(1)).toBeCloseTo(0.025, 15);
    expect(lr(2)).toBeCloseTo(0.05, 15);
    expect(lr(3)).toBeCloseTo(0.075, 15);
    expect(lr(4)).toBeCloseTo(0.1, 15);
    expect(lr(12)).toBeCloseTo(0.05, 15);
    expect(lr(19)).toBeCloseTo(0.1 / 16, 15);
    expect(lr(20)).toBe(0);
    expect(lr(25)).toBe(0);
  });

  it('starts at the peak without warmup', () => {
    expect(learningRateAt(0, 0.01, 0, 10)).toBe(0.01);
    expect(learningRateAt(5, 0.01, 0, 10)).toBeCloseTo(0.005, 15);
  });

  it('never reaches the peak when warmup is longer than the run', () => {
    const rates = Array.from({ length: 10 }, (_, i) => learningRateAt(i, 1, 100, 10));
    expect(Math.max(...rates)).toBeCloseTo(0.09, 15);
  });
});
