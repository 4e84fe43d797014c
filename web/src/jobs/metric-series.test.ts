import { describe, expect, test } from 'vitest';
import { MetricSeries, type Point } from './metric-series.ts';

const point = (step: number, valLoss: number | null = null): Point => ({
  step,
  loss: 1 / step,
  valLoss,
  learningRate: 0.001,
});

describe('MetricSeries', () => {
  test('holds the points in columns, oldest first', () => {
    const series = new MetricSeries();
    expect(series.append([point(1), point(2, 0.7), point(3)])).toBe(3);
    expect(series.steps).toEqual([1, 2, 3]);
    expect(series.loss).toEqual([1, 0.5, 1 / 3]);
    expect(series.valLoss).toEqual([null, 0.7, null]);
    expect(series.lastStep).toBe(3);
    expect(series.lastValLoss()).toBe(0.7);
  });

  test('drops steps it holds already (a replay after a reconnect), keeps the new ones', () => {
    const series = new MetricSeries();
    series.append([point(1), point(2), point(3)]);
    expect(series.append([point(2), point(3), point(4), point(5)])).toBe(2);
    expect(series.steps).toEqual([1, 2, 3, 4, 5]);
    expect(series.length).toBe(5);
  });

  test('rebase holds a curve of the run, then the live points after its end', () => {
    const series = new MetricSeries();
    series.append([1, 2, 3, 4, 5, 6, 7].map((step) => point(step)));
    series.rebase([point(1), point(4, 0.3), point(5)]);
    expect(series.steps).toEqual([1, 4, 5, 6, 7]);
    expect(series.valLoss).toEqual([null, 0.3, null, null, null]);
    expect(series.loss[3]).toBe(1 / 6);
    series.rebase([point(1), point(9)]);
    expect(series.steps).toEqual([1, 9]);
    series.rebase([]);
    expect(series.steps).toEqual([1, 9]);
  });

  test('starts empty', () => {
    const series = new MetricSeries();
    expect(series.lastStep).toBeUndefined();
    expect(series.lastValLoss()).toBeNull();
  });
});
