import type { Client } from 'graphql-sse';
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { encodeGlobalID } from '../src/schema/global-ids.ts';
import { ADMIN_TOKEN, createTestApp, type TestApp, VIEWER_TOKEN } from './support/app.ts';
import { newJob } from './support/fixtures.ts';
import { FakeRunner } from './support/runner.ts';
import {
  EVENT_STREAM_HEADERS,
  PROGRESS_SUBSCRIPTION,
  type ProgressEvent,
  sseBlocks,
  sseClient,
} from './support/sse.ts';

let app: TestApp;
let runner: FakeRunner;
beforeEach(async () => {
  app = await createTestApp({ trainingData: true });
  runner = new FakeRunner(app.database.db, app.events);
});
afterEach(() => app.close());

const gid = (id: string) => encodeGlobalID('TrainingJob', id);

test('100 subscribers of a job cost no SQL statement per event', async () => {
  const job = await runner.start((await newJob(app.database.db)).id);
  const client: Client = sseClient({ fetchFn: app.yoga.fetch });
  const streams = Array.from({ length: 100 }, () =>
    client.iterate<ProgressEvent, unknown>({
      query: PROGRESS_SUBSCRIPTION,
      variables: { jobId: gid(job.id) },
    }),
  );
  await Promise.all(streams.map((s) => s.next()));

  const event = await runner.record(job.id, 5);
  app.queries.length = 0;
  runner.publish(event);
  const updates = await Promise.all(streams.map((s) => s.next()));
  for (const { value } of updates) {
    expect(value?.data?.trainingProgress.newPoints.map((p: { step: number }) => p.step)).toEqual([
      1, 2, 3, 4, 5,
    ]);
    expect(value?.data?.trainingProgress.job.currentStep).toBe(5);
  }
  expect(app.queries).toEqual([]);

  await Promise.all(streams.map((s) => s.return?.()));
  client.dispose();
});

test('subscribers sharing an event each get the result of their own operation', async () => {
  const job = await runner.start((await newJob(app.database.db)).id);
  const jobId = gid(job.id);
  const operations = [
    { token: ADMIN_TOKEN, query: 'job { status }' },
    { token: VIEWER_TOKEN, query: 'job { status }' },
    { token: ADMIN_TOKEN, query: 'job { currentStep } newPoints { step }' },
    { token: ADMIN_TOKEN, query: 'steps: newPoints { step }' },
  ];
  const streams = operations.flatMap(({ token, query }) => {
    const client = sseClient({ fetchFn: app.yoga.fetch, token });
    // Two subscribers per operation: those two share results, the others must not.
    return [0, 1].map(() =>
      client.iterate<{ trainingProgress: Record<string, unknown> }, unknown>({
        query: `subscription($jobId: ID!) { trainingProgress(jobId: $jobId) { ${query} } }`,
        variables: { jobId },
      }),
    );
  });
  await Promise.all(streams.map((s) => s.next()));
  await runner.step(job.id, 2);
  const updates = await Promise.all(streams.map(async (s) => (await s.next()).value?.data));
  const expected = [
    { job: { status: 'TRAINING' } },
    { job: { status: 'TRAINING' } },
    { job: { currentStep: 2 }, newPoints: [{ step: 1 }, { step: 2 }] },
    { steps: [{ step: 1 }, { step: 2 }] },
  ];
  expect(updates).toEqual(
    expected.flatMap((e) => [{ trainingProgress: e }, { trainingProgress: e }]),
  );
  await Promise.all(streams.map((s) => s.return?.()));
});

test('1,000 subscribe/abort cycles leave no listener behind', { timeout: 300_000 }, async () => {
  const job = await newJob(app.database.db);
  const baseline = app.events.listenerCount();
  const body = JSON.stringify({ query: PROGRESS_SUBSCRIPTION, variables: { jobId: gid(job.id) } });

  // Aborted while the job is read, once the stream is open, and after the first update; over
  // graphql-sse and over yoga's own SSE.
  const cycle = async (i: number) => {
    const controller = new AbortController();
    const path = i % 2 === 0 ? '/graphql/stream' : '/graphql';
    const pending = Promise.resolve(
      app.yoga.fetch(`http://test${path}`, {
        method: 'POST',
        signal: controller.signal,
        headers: EVENT_STREAM_HEADERS,
        body,
      }),
    );
    if (i % 3 === 0) controller.abort();
    const response = await pending.catch((error: unknown) => {
      if ((error as Error).name !== 'AbortError') throw error;
    });
    if (!response) return;
    if (i % 3 === 2) {
      for await (const block of sseBlocks(response)) if (block.startsWith('event: next')) break;
    }
    controller.abort();
    await response.body?.cancel().catch(() => {});
  };

  for (let round = 0; round < 100; round++) {
    await Promise.all(Array.from({ length: 10 }, (_, i) => cycle(round * 10 + i)));
  }
  await vi.waitFor(() => expect(app.events.listenerCount()).toBe(baseline));
});
