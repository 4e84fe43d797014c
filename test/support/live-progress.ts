import type { Client, ExecutionResult } from 'graphql-sse';
import { expect } from 'vitest';
import type { MetricPointRow } from '../../src/db/schema.ts';
import type { PushSource } from '../../src/events/push-source.ts';
import type { ProgressItem } from '../../src/training/progress-stream.ts';
import { EVENT_STREAM_HEADERS, sseBlocks } from './sse.ts';

/** What the live-progress rules are about: each update's status, totalSteps and new points. */
export const LIVE_PROGRESS = `subscription Live($jobId: ID!) {
  trainingProgress(jobId: $jobId) {
    job { status totalSteps }
    newPoints { step epoch loss valLoss }
  }
}`;

export type LivePoint = {
  step: number;
  epoch: number;
  loss: number | null;
  valLoss: number | null;
};
export type LiveUpdate = { job: { status: string; totalSteps: number }; newPoints: LivePoint[] };
type LiveData = { trainingProgress: LiveUpdate };
type LiveResult = ExecutionResult<LiveData | null | undefined, unknown>;

export const livePoint = ({ step, epoch, loss, valLoss }: LivePoint): LivePoint => ({
  step,
  epoch,
  loss,
  valLoss,
});

/** A stream's updates, collected as they come; `done` settles once the stream ended. */
export type Follower = { updates: LiveUpdate[]; done: Promise<void> };

function collect(results: AsyncIterable<LiveResult>): Follower {
  const updates: LiveUpdate[] = [];
  const done = (async () => {
    for await (const result of results) {
      if (!result.data) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
      updates.push(result.data.trainingProgress);
    }
  })();
  return { updates, done };
}

/** Follows a job with a graphql-sse client, reading each update as it comes. */
export function followWithClient(client: Client, jobId: string): Follower {
  return collect(client.iterate<LiveData>({ query: LIVE_PROGRESS, variables: { jobId } }));
}

/** A consumer that takes the first update, then reads nothing until `all()`. */
export type SlowConsumer = {
  /** Every update the consumer got, the first included, once the stream ended. */
  all(): Promise<LiveUpdate[]>;
};

/** A graphql-sse stream (distinct connections) read slowly. */
export async function slowStream(
  fetchFn: typeof fetch,
  url: string,
  jobId: string,
): Promise<SlowConsumer> {
  const response = await fetchFn(url, {
    method: 'POST',
    headers: EVENT_STREAM_HEADERS,
    body: JSON.stringify({ query: LIVE_PROGRESS, variables: { jobId } }),
  });
  const blocks = sseBlocks(response);
  const updates: LiveUpdate[] = [];
  /** The next update, or null once the stream completed. */
  const next = async (): Promise<LiveUpdate | null> => {
    for (;;) {
      const { value: block, done } = await blocks.next();
      if (done || block.startsWith('event: complete')) return null;
      if (!block.startsWith('event: next')) continue;
      const result = JSON.parse(block.slice(block.indexOf('data: ') + 6)) as LiveResult;
      if (!result.data) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
      return result.data.trainingProgress;
    }
  };
  const first = await next();
  if (first) updates.push(first);
  return {
    async all() {
      for (let u = await next(); u; u = await next()) updates.push(u);
      return updates;
    },
  };
}

/** A domain-level watch (`app.training.watchProgress`) pulled slowly. */
export async function slowWatch(watch: PushSource<ProgressItem>): Promise<SlowConsumer> {
  const updates: LiveUpdate[] = [];
  const take = (item: ProgressItem) => {
    if ('deleted' in item) throw new Error('the job was deleted');
    updates.push({
      job: { status: item.job.status, totalSteps: item.job.totalSteps },
      newPoints: item.newPoints.map(livePoint),
    });
  };
  const first = await watch.next();
  if (!first.done) take(first.value);
  return {
    async all() {
      for await (const item of watch) take(item);
      return updates;
    },
  };
}

/** Every status of a run, from QUEUED on. */
export const FULL_RUN = ['QUEUED', 'PREPARING', 'TRAINING', 'VALIDATING', 'COMPLETED'];

/** Every status of a run paused while training and resumed. */
export const PAUSED_AND_RESUMED = [
  ...FULL_RUN.slice(0, 3),
  'PAUSED',
  'QUEUED',
  ...FULL_RUN.slice(1),
];

/** The statuses of a stream's updates, each run of one status once. */
export const statusesOf = (updates: LiveUpdate[]) =>
  updates.map((u) => u.job.status).filter((s, i, all) => i === 0 || all[i - 1] !== s);

/** Whether `part` is `whole` with some elements left out. */
const isSubsequence = (part: string[], whole: string[]) => {
  let i = 0;
  for (const item of whole) if (item === part[i]) i++;
  return i === part.length;
};

/**
 * CONTRACT.md, "Live progress: exact rules", for one stream: `statuses` in this order, TRAINING
 * never with totalSteps 0, and every stored point exactly once, in step order, as stored (with its
 * valLoss on each epoch's last step). With `statusesMayRepeat` (a job whose statuses come back,
 * as around a pause), a consumer that fell behind gets one merged update per status: then each
 * status at least once, in the order of its visits, some earlier visits merged into later ones.
 */
export function expectExactRules(
  updates: LiveUpdate[],
  expected: {
    statuses: string[];
    stored: MetricPointRow[];
    stepsPerEpoch: number;
    statusesMayRepeat?: boolean;
  },
) {
  const seen = statusesOf(updates);
  if (expected.statusesMayRepeat) {
    expect(new Set(seen), seen.join(' -> ')).toEqual(new Set(expected.statuses));
    expect(isSubsequence(seen, expected.statuses), seen.join(' -> ')).toBe(true);
    expect(seen.at(-1)).toBe(expected.statuses.at(-1));
  } else {
    expect(seen).toEqual(expected.statuses);
  }
  for (const update of updates) {
    if (update.job.status === 'TRAINING') expect(update.job.totalSteps).toBeGreaterThan(0);
  }
  const sent = updates.flatMap((u) => u.newPoints);
  expect(sent).toEqual(expected.stored.map(livePoint));
  for (const point of sent) {
    const epochEnd = point.step % expected.stepsPerEpoch === 0;
    expect(point.valLoss !== null, `valLoss at step ${point.step}`).toBe(epochEnd);
  }
}
