import { asc, eq } from 'drizzle-orm';
import type { Db } from '../../src/db/client.ts';
import { type MetricPointRow, metricBlocks } from '../../src/db/schema.ts';

/** What `metric_blocks` must hold for these points (blocks of 32 steps), worked out here. */
export function expectedBlocks(points: readonly MetricPointRow[]) {
  const blocks = new Map<number, MetricPointRow[]>();
  for (const p of points) blocks.set(p.step >> 5, [...(blocks.get(p.step >> 5) ?? []), p]);
  const extreme = (group: MetricPointRow[], value: (p: MetricPointRow) => number | null) => {
    const valued = group.flatMap((p): [number, number][] => {
      const v = value(p);
      return v === null ? [] : [[v, p.step]];
    });
    if (valued.length === 0) return { min: null, max: null };
    // the lowest value at its earliest step, the highest at its latest
    const min = valued.reduce((a, b) => (b[0] < a[0] ? b : a));
    const max = valued.reduce((a, b) => (b[0] >= a[0] ? b : a));
    return { min, max };
  };
  return [...blocks.entries()]
    .sort(([a], [b]) => a - b)
    .map(([block, group]) => {
      const loss = extreme(group, (p) => p.loss);
      const val = extreme(group, (p) => p.valLoss);
      return {
        block,
        firstStep: group[0]?.step,
        lastStep: group.at(-1)?.step,
        validations: group.filter((p) => p.valLoss !== null).length,
        minLoss: loss.min,
        maxLoss: loss.max,
        minValLoss: val.min,
        maxValLoss: val.max,
      };
    });
}

export const storedBlocks = (db: Db, id: string) =>
  db
    .select({
      block: metricBlocks.block,
      firstStep: metricBlocks.firstStep,
      lastStep: metricBlocks.lastStep,
      validations: metricBlocks.validations,
      minLoss: metricBlocks.minLoss,
      maxLoss: metricBlocks.maxLoss,
      minValLoss: metricBlocks.minValLoss,
      maxValLoss: metricBlocks.maxValLoss,
    })
    .from(metricBlocks)
    .where(eq(metricBlocks.jobId, id))
    .orderBy(asc(metricBlocks.block));
