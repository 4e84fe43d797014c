import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { limitEventStreams } from '../../src/http/stream-limits.ts';
import { encodeGlobalID } from '../../src/schema/ids.ts';
import { ADMIN_TOKEN, createTestApp, type TestApp, VIEWER_TOKEN } from '../support/app.ts';
import { newJob } from '../support/fixtures.ts';
import { PROGRESS_SUBSCRIPTION } from '../support/sse.ts';

let app: TestApp;
let server: ReturnType<typeof createServer>;
let streams: ReturnType<typeof limitEventStreams>;
let url: string;
beforeAll(async () => {
  app = await createTestApp();
  streams = limitEventStreams(
    app.yoga,
    { maxStreamsPerToken: 2, maxStreams: 3, maxStreamBacklogBytes: 1024 * 1024 },
    pino({ level: 'silent' }),
  );
  server = createServer(streams);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql/stream`;
});
afterAll(async () => {
  streams.closeStreams();
  await new Promise((resolve) => server.close(resolve));
  await app.close();
});

/** Opens a trainingProgress stream (distinct-connections mode) on a job that stays QUEUED. */
async function open(token: string, jobId: string) {
  const controller = new AbortController();
  const response = await fetch(url, {
    method: 'POST',
    signal: controller.signal,
    headers: {
      'content-type': 'application/json',
      accept: 'text/event-stream',
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify({ query: PROGRESS_SUBSCRIPTION, variables: { jobId } }),
  });
  return { response, close: () => controller.abort() };
}

async function until(condition: () => boolean) {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 25));
  expect(condition()).toBe(true);
}

test('event streams are capped per token and in all, and a closed one frees its place', async () => {
  const jobId = encodeGlobalID('TrainingJob', (await newJob(app.database.db)).id);
  const first = await open(ADMIN_TOKEN, jobId);
  const second = await open(ADMIN_TOKEN, jobId);
  expect([first.response.status, second.response.status]).toEqual([200, 200]);

  const third = await open(ADMIN_TOKEN, jobId);
  expect(third.response.status).toBe(429);
  expect((await third.response.json()).errors[0].extensions).toEqual({
    code: 'FORBIDDEN',
    limit: 'maxStreamsPerToken',
  });

  const viewer = await open(VIEWER_TOKEN, jobId);
  expect(viewer.response.status).toBe(200);
  const over = await open(VIEWER_TOKEN, jobId);
  expect(over.response.status).toBe(429);
  expect((await over.response.json()).errors[0].extensions.limit).toBe('maxStreams');

  first.close();
  await until(() => streams.openStreams() === 2);
  const again = await open(ADMIN_TOKEN, jobId);
  expect(again.response.status).toBe(200);
  for (const stream of [second, viewer, again]) stream.close();
  await until(() => streams.openStreams() === 0);
});
