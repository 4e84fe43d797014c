import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { encodeGlobalID } from '../../src/schema/global-ids.ts';
import { createTestApp, type TestApp, testSettings } from '../support/app.ts';
import { newJob } from '../support/fixtures.ts';
import { type ServedApp, serveApp } from '../support/http.ts';
import { FakeRunner } from '../support/runner.ts';
import { nextResult, openEventStream } from '../support/sse.ts';

let app: TestApp;
let served: ServedApp;
let runner: FakeRunner;
beforeEach(async () => {
  app = await createTestApp({ trainingData: true, progressMaxEventsPerSecond: 1000 });
  served = await serveApp(app);
  runner = new FakeRunner(app.database.db, app.events);
});
afterEach(async () => {
  await served.close();
  await app.close();
});

// lossHistory reads the job's points on every execution: its queries count executions.
const SUBSCRIPTION = `subscription($jobId: ID!) {
  trainingProgress(jobId: $jobId) { newPoints { step } job { metrics { lossHistory } } }
}`;
const isLossHistoryRead = (query: string) =>
  query.startsWith('select') && query.includes('from "metric_points"');

/** Holds metric_points until the returned release: executions that read them wait meanwhile. */
async function holdPoints(): Promise<() => Promise<void>> {
  let open = () => {};
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  let transaction: Promise<void> = Promise.resolve();
  await new Promise<void>((held) => {
    transaction = app.database.db.transaction(async (tx) => {
      await tx.execute(sql`lock table metric_points in access exclusive mode`);
      held();
      await gate;
    });
  });
  return async () => {
    open();
    await transaction;
  };
}

test('subscribers kept busy by the same updates cost one execution per update, not one each', async () => {
  const job = await runner.start((await newJob(app.database.db)).id);
  const streams = await Promise.all(
    Array.from({ length: 4 }, async () => {
      const { blocks, close } = await openEventStream(`${served.origin}/graphql/stream`, {
        query: SUBSCRIPTION,
        variables: { jobId: encodeGlobalID('TrainingJob', job.id) },
      });
      await nextResult(blocks);
      return { blocks, close };
    }),
  );
  if (testSettings().sseFastPath) await vi.waitFor(() => expect(app.fanout.size).toBe(4));
  const stepsOf = async (blocks: AsyncGenerator<string>) =>
    (await nextResult(blocks)).data.trainingProgress.newPoints.map((p: { step: number }) => p.step);

  // What one update costs the subscribers that all take it at once.
  app.queries.length = 0;
  await runner.step(job.id, 1);
  for (const { blocks } of streams) expect(await stepsOf(blocks)).toEqual([1]);
  const readsPerUpdate = app.queries.filter(isLossHistoryRead).length;
  expect(readsPerUpdate).toBeGreaterThan(0);

  const events = [
    await runner.record(job.id, 1),
    await runner.record(job.id, 1),
    await runner.record(job.id, 1),
  ];

  // The first update's execution waits for the points, so the next two batches of the feed
  // (its interval passes between them) find every subscriber busy and are merged.
  const release = await holdPoints();
  app.queries.length = 0;
  for (const event of events) {
    runner.publish(event);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await release();
  for (const { blocks } of streams) {
    expect(await stepsOf(blocks)).toEqual([2]);
    expect(await stepsOf(blocks)).toEqual([3, 4]);
  }
  // Two updates, each executed once for all four.
  expect(app.queries.filter(isLossHistoryRead).length).toBe(2 * readsPerUpdate);
  for (const { close } of streams) close();
});
