import { useEffect, useId, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatLoss, formatRate } from '../format.ts';
import type { MetricSeries } from '../jobs/metric-series.ts';

const HEIGHT = 300;
const COLORS = { loss: '#2563eb', valLoss: '#d97706', learningRate: '#16a34a' };

function options(width: number): uPlot.Options {
  return {
    width,
    height: HEIGHT,
    // Streaming charts: no entry animation, no per-point markers on the dense series.
    cursor: { drag: { x: true, y: false } },
    scales: { x: { time: false }, lr: { auto: true } },
    axes: [
      { label: 'Step', stroke: '#475569', grid: { stroke: '#e2e8f0' } },
      { label: 'Loss', stroke: '#475569', grid: { stroke: '#e2e8f0' } },
      {
        scale: 'lr',
        side: 1,
        label: 'Learning rate',
        stroke: '#475569',
        grid: { show: false },
        values: (_u, ticks) => ticks.map((t) => t.toExponential(0)),
        size: 60,
      },
    ],
    series: [
      { label: 'Step' },
      {
        label: 'Training loss',
        stroke: COLORS.loss,
        width: 1.5,
        value: (_u, v) => formatLoss(v),
      },
      {
        label: 'Validation loss',
        stroke: COLORS.valLoss,
        width: 2,
        // evaluations are sparse: join them, and mark each one
        spanGaps: true,
        points: { show: true, size: 5, fill: COLORS.valLoss },
        value: (_u, v) => formatLoss(v),
      },
      {
        label: 'Learning rate',
        scale: 'lr',
        stroke: COLORS.learningRate,
        width: 1,
        dash: [4, 4],
        value: (_u, v) => formatRate(v),
      },
    ],
  };
}

/**
 * The loss curve of a job: training and validation loss by step, and the learning rate on its
 * own axis. `data-points`, `data-first-step` and `data-last-step` say what it draws. Redraws when `version` changes (new points in `series`), at most once a frame.
 */
export function LossCurve({ series, version }: { series: MetricSeries; version: number }) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const captionId = useId();

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const data = [
      series.steps,
      series.loss,
      series.valLoss,
      series.learningRate,
    ] as uPlot.AlignedData;
    const chart = new uPlot(options(el.clientWidth || 600), data, el);
    plot.current = chart;
    const resize = new ResizeObserver(() => {
      if (el.clientWidth > 0) chart.setSize({ width: el.clientWidth, height: HEIGHT });
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
  }, [series]);

  useEffect(() => {
    if (version === 0) return;
    const frame = requestAnimationFrame(() => {
      plot.current?.setData([
        series.steps,
        series.loss,
        series.valLoss,
        series.learningRate,
      ] as uPlot.AlignedData);
    });
    return () => cancelAnimationFrame(frame);
  }, [series, version]);

  const last = series.length - 1;
  return (
    <figure className="chart">
      <div
        ref={host}
        role="img"
        aria-label="Loss curve"
        aria-describedby={captionId}
        data-points={series.length}
        data-first-step={series.firstStep}
        data-last-step={series.lastStep}
      />
      <figcaption id={captionId} className="muted small">
        {last < 0
          ? 'No metric points yet: the curve starts with the first training step.'
          : `${series.length.toLocaleString()} points, step ${series.firstStep?.toLocaleString()} up to step ${series.lastStep?.toLocaleString()}: training loss ${formatLoss(series.loss[last])}, latest validation loss ${formatLoss(series.lastValLoss())}.`}
      </figcaption>
    </figure>
  );
}
