import { connect } from 'node:net';
import type { Client } from 'graphql-sse';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { encodeGlobalID } from '../src/schema/global-ids.ts';
import { ADMIN_TOKEN, createTestApp, ok, type TestApp, testSettings } from './support/app.ts';
import { newJob, pointRows } from './support/fixtures.ts';
import { type ServedApp, serveApp } from './support/http.ts';
import { FakeRunner } from './support/runner.ts';
import {
  nextResult,
  nextUpdate,
  openEventStream,
  PROGRESS_SUBSCRIPTION,
  type ProgressEvent,
  type ProgressUpdate,
  sseClient,
} from './support/sse.ts';

// Over real HTTP, streams of their own leave yoga and graphql-sse after the first update
// (src/http/sse/); these tests follow them past that point. CI runs them again with
// SSE_FAST_PATH=false: then every stream stays with the libraries and must behave the same.
const fastPath = testSettings().sseFastPath;
/** Streams on the fast path when `n` streams of their own are open. */
const handedOver = (n: number) => (fastPath ? n : 0);

let app: TestApp;
let served: ServedApp;
let runner: FakeRunner;
let clients: Client[];
beforeEach(async () => {
  app = await createTestApp({ trainingData: true });
  served = await serveApp(app);
  runner = new FakeRunner(app.database.db, app.events);
  clients = [];
});
afterEach(async () => {
  for (const client of clients) client.dispose();
  await served.close();
  await app.close();
});

const gid = (id: string) => encodeGlobalID('TrainingJob', id);

describe.each([{ singleConnection: false }, { singleConnection: true }])(
  'graphql-sse over HTTP, singleConnection: $singleConnection',
  ({ singleConnection }) => {
    const subscribe = (variables: Record<string, unknown>) => {
      const client = sseClient({ url: `${served.origin}/graphql/stream`, singleConnection });
      clients.push(client);
      return client.iterate<ProgressEvent>({ query: PROGRESS_SUBSCRIPTION, variables });
    };

    test('replay, every point once across the hand-over, the final state and the end', async () => {
      const job = await runner.start((await newJob(app.database.db)).id);
      await runner.step(job.id, 3);
      const events = subscribe({ jobId: gid(job.id), afterStep: 1 });
      const first = await nextUpdate(events);
      expect(first.newPoints.map((p) => p.step)).toEqual([2, 3]);
      await vi.waitFor(() => expect(app.fanout.size).toBe(handedOver(singleConnection ? 0 : 1)));

      const updates: ProgressUpdate[] = [];
      await runner.step(job.id, 2);
      await runner.transition(job.id, 'cancel');
      for (;;) {
        const update = await nextUpdate(events);
        updates.push(update);
        if (update.job.status === 'CANCELLED') break;
      }
      expect(updates.flatMap((u) => u.newPoints.map((p) => p.step))).toEqual([4, 5]);
      expect(await events.next()).toEqual({ done: true, value: undefined });
      await vi.waitFor(() => expect(app.fanout.size).toBe(0));
    });
  },
);

const openStream = (path: string, jobId: string, query = PROGRESS_SUBSCRIPTION) =>
  openEventStream(`${served.origin}${path}`, { query, variables: { jobId } });

describe.each(['/graphql/stream', '/graphql'])('a stream of its own on %s', (path) => {
  test('goes on past the first update, completes, and lets everything go', async () => {
    const job = await runner.start((await newJob(app.database.db)).id);
    const listeners = app.events.listenerCount();
    const { blocks } = await openStream(path, gid(job.id));
    expect((await nextResult(blocks)).data.trainingProgress.job.status).toBe('TRAINING');
    await vi.waitFor(() => expect(app.fanout.size).toBe(handedOver(1)));

    await runner.step(job.id, 2);
    const second = await nextResult(blocks);
    expect(second.data.trainingProgress.newPoints.map((p: { step: number }) => p.step)).toEqual([
      1, 2,
    ]);
    await runner.transition(job.id, 'cancel');
    expect((await nextResult(blocks)).data.trainingProgress.job.status).toBe('CANCELLED');
    expect(await nextResult(blocks)).toBeNull();
    expect((await blocks.next()).done).toBe(true);
    expect(app.fanout.size).toBe(0);
    await vi.waitFor(() => expect(served.streams.openStreams()).toBe(0));
    expect(app.events.listenerCount()).toBeLessThan(listeners + 1);
  });

  test('a deleted job: NOT_FOUND, then the end', async () => {
    const job = await newJob(app.database.db);
    const streams = [await openStream(path, gid(job.id)), await openStream(path, gid(job.id))];
    for (const { blocks } of streams) await nextResult(blocks);
    await vi.waitFor(() => expect(app.fanout.size).toBe(handedOver(2)));
    ok(await app.gql(`mutation($id: ID!) { deleteTrainingJob(id: $id) }`, { id: gid(job.id) }));
    for (const { blocks } of streams) {
      expect(await nextResult(blocks)).toEqual({
        data: null,
        errors: [
          {
            message: `No training job with id ${job.id}`,
            locations: [expect.any(Object)],
            path: ['trainingProgress'],
            extensions: { code: 'NOT_FOUND' },
          },
        ],
      });
      expect(await nextResult(blocks)).toBeNull();
    }
    expect(app.fanout.size).toBe(0);
  });
});

test.skipIf(!fastPath)(
  'subscribers of one operation share one serialization per event',
  async () => {
    const job = await runner.start((await newJob(app.database.db)).id);
    const other = `subscription($jobId: ID!) { trainingProgress(jobId: $jobId) { newPoints { step } } }`;
    const streams = await Promise.all([
      ...Array.from({ length: 100 }, () => openStream('/graphql/stream', gid(job.id))),
      ...Array.from({ length: 20 }, () => openStream('/graphql', gid(job.id), other)),
    ]);
    await Promise.all(streams.map(({ blocks }) => nextResult(blocks)));
    await vi.waitFor(() => expect(app.fanout.size).toBe(handedOver(120)));

    const stringify = vi.spyOn(JSON, 'stringify');
    const event = await runner.record(job.id, 3);
    runner.publish(event);
    const results = await Promise.all(streams.map(({ blocks }) => nextResult(blocks)));
    const serialized = stringify.mock.calls.filter(
      ([value]) => (value as { data?: unknown } | null)?.data !== undefined,
    );
    stringify.mockRestore();
    expect(serialized).toHaveLength(2);
    for (const result of results) {
      expect(result.data.trainingProgress.newPoints.map((p: { step: number }) => p.step)).toEqual([
        1, 2, 3,
      ]);
    }
    for (const { close } of streams) close();
    await vi.waitFor(() => expect(app.fanout.size).toBe(0));
  },
);

test('fields beyond the snapshot are read afresh for every update', async () => {
  const job = await runner.start((await newJob(app.database.db)).id);
  const { blocks } = await openStream(
    '/graphql/stream',
    gid(job.id),
    `subscription($jobId: ID!) { trainingProgress(jobId: $jobId) { job { metrics { lossHistory } } } }`,
  );
  await nextResult(blocks);
  await vi.waitFor(() => expect(app.fanout.size).toBe(handedOver(1)));
  await runner.step(job.id, 2);
  expect((await nextResult(blocks)).data.trainingProgress.job.metrics.lossHistory).toEqual([
    1,
    1 / 2,
  ]);
});

test('200 subscribe/abort cycles over HTTP leave no stream, listener or beat behind', {
  timeout: 120_000,
}, async () => {
  const job = await newJob(app.database.db);
  const listeners = app.events.listenerCount();
  // Aborted before the first update, right after it (around the hand-over), and later.
  const cycle = async (i: number) => {
    const { blocks, close } = await openStream(
      i % 2 === 0 ? '/graphql/stream' : '/graphql',
      gid(job.id),
    ).catch(() => ({ blocks: null, close: () => {} }));
    if (blocks && i % 3 !== 0) await nextResult(blocks);
    if (blocks && i % 3 === 2) await new Promise((r) => setTimeout(r, 20));
    close();
  };
  for (let round = 0; round < 20; round++) {
    await Promise.all(Array.from({ length: 10 }, (_, i) => cycle(round * 10 + i)));
  }
  await vi.waitFor(() => {
    expect(served.streams.openStreams()).toBe(0);
    expect(app.fanout.size).toBe(0);
    expect(app.events.listenerCount()).toBe(listeners);
  });
});

test('a client that stops reading is cut once its backlog passes the limit', async () => {
  await served.close();
  served = await serveApp(app, {
    maxStreamsPerToken: 10,
    maxStreams: 10,
    maxStreamBacklogBytes: 64 * 1024,
  });
  const job = await runner.start((await newJob(app.database.db)).id);
  const socket = connect(Number(new URL(served.origin).port), '127.0.0.1');
  const body = JSON.stringify({ query: PROGRESS_SUBSCRIPTION, variables: { jobId: gid(job.id) } });
  socket.write(
    `POST /graphql/stream HTTP/1.1\r\nhost: test\r\naccept: text/event-stream\r\ncontent-type: application/json\r\nauthorization: Bearer ${ADMIN_TOKEN}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  // The first update has arrived: the stream is subscribed (and handed over, on the fast path).
  let received = '';
  await new Promise<void>((resolve) => {
    const onData = (chunk: Buffer) => {
      received += chunk.toString();
      if (!received.includes('event: next')) return;
      socket.off('data', onData);
      resolve();
    };
    socket.on('data', onData);
  });
  await vi.waitFor(() => expect(app.fanout.size).toBe(handedOver(1)));
  socket.pause();
  // Megabytes in one update: more than the socket buffers on both sides take.
  const newPoints = pointRows(job.id, 50_000);
  runner.publish({ job: { ...job, updatedAt: new Date(Date.now() + 1000) }, newPoints });
  await vi.waitFor(() => {
    expect(app.fanout.size).toBe(0);
    expect(served.streams.openStreams()).toBe(0);
  });
  socket.destroy();
});

test('a quiet stream gets pings within SSE_KEEPALIVE_MS', async () => {
  await served.close();
  await app.close();
  app = await createTestApp({ trainingData: true, sseKeepAliveMs: 200 });
  served = await serveApp(app);
  const job = await newJob(app.database.db);
  const { blocks } = await openStream('/graphql/stream', gid(job.id));
  await nextResult(blocks);
  await vi.waitFor(() => expect(app.fanout.size).toBe(handedOver(1)));
  const started = Date.now();
  const pings: number[] = [];
  while (pings.length < 3) {
    const { value } = await blocks.next();
    if (value?.startsWith(':')) pings.push(Date.now() - started);
  }
  // Every 100–200 ms when idle; lenient for a loaded machine.
  expect(pings.at(-1)).toBeLessThan(3000);
});

test('SSE_FAST_PATH=false keeps every stream with the libraries', async () => {
  await served.close();
  await app.close();
  app = await createTestApp({
    trainingData: true,
    settings: testSettings({ SSE_FAST_PATH: 'false' }),
  });
  served = await serveApp(app);
  runner = new FakeRunner(app.database.db, app.events);
  const job = await runner.start((await newJob(app.database.db)).id);
  const { blocks } = await openStream('/graphql/stream', gid(job.id));
  await nextResult(blocks);
  await runner.step(job.id, 2);
  const second = await nextResult(blocks);
  expect(second.data.trainingProgress.newPoints.map((p: { step: number }) => p.step)).toEqual([
    1, 2,
  ]);
  expect(app.fanout.size).toBe(0);
});
