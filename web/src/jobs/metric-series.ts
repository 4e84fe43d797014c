/** One metric point as the chart needs it (a subset of the API's MetricPoint). */
export type Point = {
  step: number;
  loss: number | null;
  valLoss: number | null;
  learningRate: number;
};

/**
 * A job's metric points in the column layout uPlot draws from (steps, training loss, validation
 * loss, learning rate). Points arrive oldest first, from the initial load and then from live
 * updates; a replayed step (after a reconnect) is dropped, so every step appears once. `rebase`
 * swaps the points held for a coarser curve of the run, which keeps memory bounded however long
 * a run streams.
 */
export class MetricSeries {
  readonly steps: number[] = [];
  readonly loss: (number | null)[] = [];
  readonly valLoss: (number | null)[] = [];
  readonly learningRate: number[] = [];

  get length(): number {
    return this.steps.length;
  }

  get firstStep(): number | undefined {
    return this.steps[0];
  }

  get lastStep(): number | undefined {
    return this.steps[this.steps.length - 1];
  }

  /**
   * Holds `curve` (the run up to its last step) in place of the points held, then the held points
   * after it: those that arrived live while the curve was on its way.
   */
  rebase(curve: readonly Point[]): void {
    const curveEnd = curve.at(-1)?.step ?? Number.NEGATIVE_INFINITY;
    const later: Point[] = [];
    this.steps.forEach((step, i) => {
      if (step > curveEnd) {
        later.push({
          step,
          loss: this.loss[i] ?? null,
          valLoss: this.valLoss[i] ?? null,
          learningRate: this.learningRate[i] ?? 0,
        });
      }
    });
    this.steps.length = 0;
    this.loss.length = 0;
    this.valLoss.length = 0;
    this.learningRate.length = 0;
    this.append(curve);
    this.append(later);
  }

  /** Appends the points after the last step held; returns how many were new. */
  append(points: readonly Point[]): number {
    let added = 0;
    for (const point of points) {
      const last = this.lastStep;
      if (last !== undefined && point.step <= last) continue;
      this.steps.push(point.step);
      this.loss.push(point.loss);
      this.valLoss.push(point.valLoss);
      this.learningRate.push(point.learningRate);
      added += 1;
    }
    return added;
  }

  /** The latest validation loss held, for the chart's caption. */
  lastValLoss(): number | null {
    for (let i = this.valLoss.length - 1; i >= 0; i--) {
      const value = this.valLoss[i];
      if (value != null) return value;
    }
    return null;
  }
}
