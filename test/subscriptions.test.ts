import type { Client } from 'graphql-sse';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { encodeGlobalID } from '../src/schema/global-ids.ts';
import { createTestApp, ok, type TestApp, VIEWER_TOKEN } from './support/app.ts';
import { addPoints, newJob } from './support/fixtures.ts';
import { FakeRunner } from './support/runner.ts';
import {
  EVENT_STREAM_HEADERS,
  nextUpdate,
  PROGRESS_SUBSCRIPTION,
  type ProgressEvent,
  type ProgressResult,
  type ProgressUpdate,
  sseBlocks,
  sseClient,
} from './support/sse.ts';

let app: TestApp;
let runner: FakeRunner;
let clients: Client[];
let listenersAtStart: number;
beforeEach(async () => {
  app = await createTestApp({ trainingData: true });
  runner = new FakeRunner(app.database.db, app.events);
  clients = [];
  listenersAtStart = app.events.listenerCount();
});
afterEach(async () => {
  for (const client of clients) client.dispose();
  await app.close();
});

const gid = (id: string) => encodeGlobalID('TrainingJob', id);

describe.each([{ singleConnection: false }, { singleConnection: true }])(
  'trainingProgress over graphql-sse, singleConnection: $singleConnection',
  ({ singleConnection }) => {
    const subscribe = (variables: Record<string, unknown>, token?: string | null) => {
      const client = sseClient({ fetchFn: app.yoga.fetch, singleConnection, token });
      clients.push(client);
      return client.iterate<ProgressEvent>({ query: PROGRESS_SUBSCRIPTION, variables });
    };
    /** Updates until (and with) the first one that shows `status`. */
    const until = async (events: AsyncIterator<ProgressResult>, status: string) => {
      const updates: ProgressUpdate[] = [];
      for (;;) {
        const update = await nextUpdate(events);
        updates.push(update);
        if (update.job.status === status) return updates;
      }
    };

    test('the first update comes at once with the current state; afterStep replays later points', async () => {
      const job = await newJob(app.database.db);
      await addPoints(app.database.db, job.id, 10);

      const plain = subscribe({ jobId: gid(job.id) });
      expect(await nextUpdate(plain)).toEqual({
        job: {
          id: gid(job.id),
          status: 'QUEUED',
          progress: 0,
          currentStep: 0,
          loss: null,
          startedAt: null,
        },
        elapsedTimeMs: 0,
        estimatedRemainingMs: null,
        newPoints: [],
      });

      const resumed = subscribe({ jobId: gid(job.id), afterStep: 7 });
      const first = await nextUpdate(resumed);
      expect(first.newPoints.map((p) => p.step)).toEqual([8, 9, 10]);
      expect(first.newPoints[0]).toEqual({ step: 8, loss: 1 / 8, timestamp: expect.any(String) });
      await plain.return?.();
      await resumed.return?.();
    });

    test('an update on every change, every point once, then the final state and the end', async () => {
      const job = await newJob(app.database.db);
      const events = subscribe({ jobId: gid(job.id) });
      expect((await nextUpdate(events)).job.status).toBe('QUEUED');

      await runner.start(job.id);
      const training = await until(events, 'TRAINING');
      const running = training.at(-1)!;
      expect(running.elapsedTimeMs).toBeGreaterThanOrEqual(0);
      expect(running.estimatedRemainingMs).toBeGreaterThan(0);
      expect(running.estimatedRemainingMs).toBeLessThanOrEqual(3_600_000);

      await runner.step(job.id, 3);
      await runner.step(job.id, 2);
      ok(
        await app.gql(`mutation($id: ID!) { cancelTrainingJob(id: $id) { id } }`, {
          id: gid(job.id),
        }),
      );
      const rest = await until(events, 'CANCELLED');
      expect(rest.flatMap((u) => u.newPoints.map((p) => p.step))).toEqual([1, 2, 3, 4, 5]);
      expect(rest.at(-1)?.job.currentStep).toBe(5);
      expect(await events.next()).toEqual({ done: true, value: undefined });
    });

    test('a burst is coalesced into few updates without losing or repeating a point', async () => {
      const job = await runner.start((await newJob(app.database.db)).id);
      const events = subscribe({ jobId: gid(job.id) });
      await nextUpdate(events);

      const batches = [];
      for (let i = 0; i < 50; i++) batches.push(await runner.record(job.id, 2));
      // All at once: the first goes out at once, the other 49 wait out the interval together.
      for (const batch of batches) runner.publish(batch);
      await runner.transition(job.id, 'fail', { errorMessage: 'out of memory' });

      const updates = await until(events, 'FAILED');
      const steps = updates.flatMap((u) => u.newPoints.map((p) => p.step));
      expect(steps).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
      expect(updates.filter((u) => u.newPoints.length > 0)).toHaveLength(2);
      expect(updates.at(-1)?.job.currentStep).toBe(100);
      expect((await events.next()).done).toBe(true);
    });

    test('a finished job: one update, then the end', async () => {
      const job = await newJob(app.database.db);
      await runner.transition(job.id, 'cancel');
      const events = subscribe({ jobId: gid(job.id) });
      expect((await nextUpdate(events)).job.status).toBe('CANCELLED');
      expect((await events.next()).done).toBe(true);
    });

    test('deleting a queued or a paused job ends its streams with NOT_FOUND', async () => {
      const queued = await newJob(app.database.db);
      const paused = await runner.start((await newJob(app.database.db)).id);
      await runner.step(paused.id, 2);
      await runner.transition(paused.id, 'pause');
      for (const job of [queued, paused]) {
        const events = subscribe({ jobId: gid(job.id) });
        await nextUpdate(events);
        ok(await app.gql(`mutation($id: ID!) { deleteTrainingJob(id: $id) }`, { id: gid(job.id) }));
        const { value } = await events.next();
        expect(value).toEqual({
          data: null,
          errors: [
            expect.objectContaining({
              message: `No training job with id ${job.id}`,
              path: ['trainingProgress'],
              extensions: { code: 'NOT_FOUND' },
            }),
          ],
        });
        expect((await events.next()).done).toBe(true);
      }
      await vi.waitFor(() => expect(app.events.listenerCount()).toBe(listenersAtStart));
    });

    test('refusals carry their error codes; a viewer may subscribe', async () => {
      const job = await newJob(app.database.db);
      const codeOf = async (variables: Record<string, unknown>, token?: string | null) => {
        const { value } = await subscribe(variables, token).next();
        return (value as ProgressResult).errors?.map((e) => e.extensions.code);
      };
      expect(await codeOf({ jobId: gid('00000000-0000-4000-8000-000000000000') })).toEqual([
        'NOT_FOUND',
      ]);
      expect(await codeOf({ jobId: 'not-an-id' })).toEqual(['BAD_USER_INPUT']);
      expect(await codeOf({ jobId: gid(job.id), afterStep: -1 })).toEqual(['BAD_USER_INPUT']);
      expect(await codeOf({ jobId: gid(job.id) }, null)).toEqual(['UNAUTHENTICATED']);
      expect(await codeOf({ jobId: gid(job.id) }, 'an-unknown-token-0123456789')).toEqual([
        'UNAUTHENTICATED',
      ]);
      const viewer = subscribe({ jobId: gid(job.id) }, VIEWER_TOKEN);
      expect((await nextUpdate(viewer)).job.status).toBe('QUEUED');
      await viewer.return?.();
    });
  },
);

test('fields beyond the snapshot are read afresh for every update', async () => {
  const job = await runner.start((await newJob(app.database.db)).id);
  const client = sseClient({ fetchFn: app.yoga.fetch });
  clients.push(client);
  const events = client.iterate<{
    trainingProgress: { job: { metrics: { lossHistory: number[] }; history: { step: number }[] } };
  }>({
    query: `subscription($jobId: ID!) { trainingProgress(jobId: $jobId) { job { metrics { lossHistory } history(last: 2) { step } } } }`,
    variables: { jobId: gid(job.id) },
  });
  const first = await events.next();
  expect(first.value?.data?.trainingProgress.job.metrics.lossHistory).toEqual([]);
  await runner.step(job.id, 3);
  const second = await events.next();
  expect(second.value?.data?.trainingProgress.job).toEqual({
    metrics: { lossHistory: [1, 1 / 2, 1 / 3] },
    history: [{ step: 2 }, { step: 3 }],
  });
  await events.return?.();
});

describe("yoga's own SSE on /graphql", () => {
  test('streams trainingProgress to Accept: text/event-stream, unbuffered by proxies', async () => {
    const job = await newJob(app.database.db);
    const response = await app.yoga.fetch('http://test/graphql', {
      method: 'POST',
      headers: EVENT_STREAM_HEADERS,
      body: JSON.stringify({ query: PROGRESS_SUBSCRIPTION, variables: { jobId: gid(job.id) } }),
    });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('x-accel-buffering')).toBe('no');
    for await (const block of sseBlocks(response)) {
      if (!block.startsWith('event: next')) continue;
      const result = JSON.parse(block.slice(block.indexOf('data: ') + 6));
      expect(result.data.trainingProgress.job.status).toBe('QUEUED');
      break;
    }
  });
});

describe('keep-alive', () => {
  test('a quiet graphql-sse stream gets a ping within SSE_KEEPALIVE_MS', async () => {
    await app.close();
    app = await createTestApp({ trainingData: true, sseKeepAliveMs: 200 });
    const job = await newJob(app.database.db);
    const response = await app.yoga.fetch('http://test/graphql/stream', {
      method: 'POST',
      headers: EVENT_STREAM_HEADERS,
      body: JSON.stringify({ query: PROGRESS_SUBSCRIPTION, variables: { jobId: gid(job.id) } }),
    });
    expect(response.headers.get('x-accel-buffering')).toBe('no');
    // The library pings once at the start and then only every 12 s: a ping after the first
    // update is ours.
    const seen: string[] = [];
    for await (const block of sseBlocks(response)) {
      seen.push(block.startsWith(':') ? 'ping' : block.split('\n')[0]!);
      if (seen.at(-1) === 'ping' && seen.includes('event: next')) break;
    }
    expect(seen.slice(-2)).toEqual(['event: next', 'ping']);
  });
});

test('GraphiQL runs subscriptions over graphql-sse', async () => {
  const response = await app.yoga.fetch('http://test/graphql', {
    headers: { accept: 'text/html' },
  });
  expect(await response.text()).toContain('"subscriptionsProtocol":"GRAPHQL_SSE"');
});
