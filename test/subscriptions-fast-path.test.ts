import type { Client, ExecutionResult } from 'graphql-sse';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { encodeGlobalID } from '../src/schema/ids.ts';
import { ADMIN_TOKEN, createTestApp, type TestApp } from './support/app.ts';
import { newJob } from './support/fixtures.ts';
import { type ServedApp, serveApp } from './support/http.ts';
import { FakeRunner } from './support/runner.ts';
import { PROGRESS_SUBSCRIPTION, type ProgressEvent, sseBlocks, sseClient } from './support/sse.ts';

// Over real HTTP, streams of their own leave yoga and graphql-sse after the first update
// (src/http/sse-fanout.ts); these tests follow them past that point.

let app: TestApp;
let served: ServedApp;
let runner: FakeRunner;
let clients: Client[];
beforeEach(async () => {
  app = await createTestApp();
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
type Update = ProgressEvent['trainingProgress'];
type Result = ExecutionResult<ProgressEvent, unknown>;

describe.each([{ singleConnection: false }, { singleConnection: true }])(
  'graphql-sse over HTTP, singleConnection: $singleConnection',
  ({ singleConnection }) => {
    const subscribe = (variables: Record<string, unknown>) => {
      const client = sseClient({ url: `${served.origin}/graphql/stream`, singleConnection });
      clients.push(client);
      return client.iterate<ProgressEvent>({ query: PROGRESS_SUBSCRIPTION, variables });
    };
    const nextUpdate = async (events: AsyncIterator<Result>): Promise<Update> => {
      const { value, done } = await events.next();
      if (done) throw new Error('the stream ended');
      if (!value.data) throw new Error(`GraphQL errors: ${JSON.stringify(value.errors)}`);
      return value.data.trainingProgress;
    };

    test('replay, every point once across the hand-over, the final state and the end', async () => {
      const job = await runner.start((await newJob(app.database.db)).id);
      await runner.step(job.id, 3);
      const events = subscribe({ jobId: gid(job.id), afterStep: 1 });
      const first = await nextUpdate(events);
      expect(first.newPoints.map((p) => p.step)).toEqual([2, 3]);
      await vi.waitFor(() => expect(app.fanout.size).toBe(singleConnection ? 0 : 1));

      const updates: Update[] = [];
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
