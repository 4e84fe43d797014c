import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { encodeGlobalID } from '../../src/schema/global-ids.ts';
import { ADMIN_TOKEN, createTestApp, type TestApp, VIEWER_TOKEN } from '../support/app.ts';
import { newJob } from '../support/fixtures.ts';
import { type ServedApp, serveApp } from '../support/http.ts';
import { PROGRESS_SUBSCRIPTION, sseBlocks } from '../support/sse.ts';

let app: TestApp;
let served: ServedApp;
let jobId: string;
beforeAll(async () => {
  app = await createTestApp({ trainingData: true });
  served = await serveApp(app, {
    maxStreamsPerToken: 2,
    maxStreams: 3,
    maxStreamBacklogBytes: 1024 * 1024,
  });
  // A job that stays QUEUED: its progress stream stays open.
  jobId = encodeGlobalID('TrainingJob', (await newJob(app.database.db)).id);
});
afterAll(async () => {
  await served.close();
  await app.close();
});

type Opened = { response: Response; close(): void };
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const operation = () => JSON.stringify({ query: PROGRESS_SUBSCRIPTION, variables: { jobId } });
const search = () =>
  `query=${encodeURIComponent(PROGRESS_SUBSCRIPTION)}&variables=${encodeURIComponent(JSON.stringify({ jobId }))}`;

/** Opens a request that should answer with an event stream; `close` aborts it. */
async function request(path: string, init: RequestInit): Promise<Opened> {
  const controller = new AbortController();
  const response = await fetch(`${served.origin}${path}`, { ...init, signal: controller.signal });
  return { response, close: () => controller.abort() };
}

const post = (path: string, token: string, accept: string) =>
  request(path, {
    method: 'POST',
    headers: { ...bearer(token), accept, 'content-type': 'application/json' },
    body: operation(),
  });
const get = (path: string, token: string, accept: string) =>
  request(`${path}?${search()}`, { headers: { ...bearer(token), accept } });

/** A single-connection stream: a reservation, then its connection. */
async function singleConnection(token: string): Promise<Opened> {
  const reserved = await fetch(`${served.origin}/graphql/stream`, {
    method: 'PUT',
    headers: bearer(token),
  });
  if (reserved.status !== 201) return { response: reserved, close: () => {} };
  const streamToken = await reserved.text();
  return request('/graphql/stream', {
    headers: {
      ...bearer(token),
      accept: 'text/event-stream',
      'x-graphql-event-stream-token': streamToken,
    },
  });
}

const opened: Opened[] = [];
afterEach(async () => {
  for (const stream of opened.splice(0)) stream.close();
  await vi.waitFor(() => expect(served.streams.openStreams()).toBe(0));
});

describe.each([
  {
    route: 'graphql-sse, distinct connections, POST',
    open: (t: string) => post('/graphql/stream', t, 'text/event-stream'),
  },
  {
    route: 'graphql-sse, distinct connections, GET',
    open: (t: string) => get('/graphql/stream', t, 'text/event-stream'),
  },
  { route: 'graphql-sse, single connection', open: singleConnection },
  {
    route: "yoga's SSE, POST with Accept: text/event-stream",
    open: (t: string) => post('/graphql', t, 'text/event-stream'),
  },
  // yoga answers a subscription with an event stream whatever the Accept header allows
  { route: "yoga's SSE, POST with Accept: */*", open: (t: string) => post('/graphql', t, '*/*') },
  { route: "yoga's SSE, GET with Accept: */*", open: (t: string) => get('/graphql', t, '*/*') },
])('$route', ({ open }) => {
  const openAs = async (token: string) => {
    const stream = await open(token);
    opened.push(stream);
    return stream.response;
  };
  const refusal = async (response: Response) => ({
    status: response.status,
    extensions: (await response.json()).errors[0].extensions,
  });

  test('streams are capped per token and in all; a closed one frees its place', async () => {
    const [first, second] = [await openAs(ADMIN_TOKEN), await openAs(ADMIN_TOKEN)];
    for (const response of [first, second]) {
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    }
    expect(await refusal(await openAs(ADMIN_TOKEN))).toEqual({
      status: 429,
      extensions: { code: 'FORBIDDEN', limit: 'maxStreamsPerToken' },
    });

    expect((await openAs(VIEWER_TOKEN)).status).toBe(200);
    expect(await refusal(await openAs(VIEWER_TOKEN))).toEqual({
      status: 429,
      extensions: { code: 'FORBIDDEN', limit: 'maxStreams' },
    });
    expect(served.streams.openStreams()).toBe(3);

    opened[0]?.close();
    await vi.waitFor(() => expect(served.streams.openStreams()).toBe(2));
    expect((await openAs(ADMIN_TOKEN)).status).toBe(200);
  });
});

describe('graphql-sse single-connection mode', () => {
  test('each subscription on a connection counts; over the limit it gets FORBIDDEN', async () => {
    const reserved = await fetch(`${served.origin}/graphql/stream`, {
      method: 'PUT',
      headers: bearer(ADMIN_TOKEN),
    });
    const streamToken = await reserved.text();
    const connection = await request('/graphql/stream', {
      headers: {
        ...bearer(ADMIN_TOKEN),
        accept: 'text/event-stream',
        'x-graphql-event-stream-token': streamToken,
      },
    });
    opened.push(connection);
    const blocks = sseBlocks(connection.response);
    const subscribe = (operationId: string) =>
      fetch(`${served.origin}/graphql/stream`, {
        method: 'POST',
        headers: {
          ...bearer(ADMIN_TOKEN),
          'content-type': 'application/json',
          'x-graphql-event-stream-token': streamToken,
        },
        body: JSON.stringify({
          query: PROGRESS_SUBSCRIPTION,
          variables: { jobId },
          extensions: { operationId },
        }),
      });
    /** The next `next` event's payload for an operation, skipping pings. */
    const nextOf = async (id: string) => {
      for (;;) {
        const { value } = await blocks.next();
        const data = value?.match(/^event: next\ndata: (.*)$/s)?.[1];
        if (!data) continue;
        const message = JSON.parse(data);
        if (message.id === id) return message.payload;
      }
    };

    expect((await subscribe('a')).status).toBe(202);
    expect((await nextOf('a')).data.trainingProgress.job.id).toBe(jobId);
    expect(served.streams.openStreams()).toBe(2);

    expect((await subscribe('b')).status).toBe(202);
    expect((await nextOf('b')).errors[0].extensions).toEqual({
      code: 'FORBIDDEN',
      limit: 'maxStreamsPerToken',
    });
    expect(served.streams.openStreams()).toBe(2);

    const stopped = await fetch(`${served.origin}/graphql/stream?operationId=a`, {
      method: 'DELETE',
      headers: { ...bearer(ADMIN_TOKEN), 'x-graphql-event-stream-token': streamToken },
    });
    expect(stopped.status).toBe(200);
    await vi.waitFor(() => expect(served.streams.openStreams()).toBe(1));
    expect((await subscribe('c')).status).toBe(202);
    expect((await nextOf('c')).data.trainingProgress.job.id).toBe(jobId);
    expect(served.streams.openStreams()).toBe(2);
  });

  test('a reservation needs a token; a refused one gives its place back', async () => {
    const anonymous = await fetch(`${served.origin}/graphql/stream`, { method: 'PUT' });
    expect(anonymous.status).toBe(401);
    expect((await anonymous.json()).errors[0].extensions).toEqual({ code: 'UNAUTHENTICATED' });

    const headers = { ...bearer(ADMIN_TOKEN), 'x-graphql-event-stream-token': 'chosen-by-client' };
    const reserve = () => fetch(`${served.origin}/graphql/stream`, { method: 'PUT', headers });
    expect((await reserve()).status).toBe(201);
    expect((await reserve()).status).toBe(409);
    expect(served.streams.openStreams()).toBe(1);
    const connection = await request('/graphql/stream', {
      headers: { ...headers, accept: 'text/event-stream' },
    });
    opened.push(connection);
    expect(connection.response.status).toBe(200);
    expect(served.streams.openStreams()).toBe(1);
  });
});

test('subscriptions over multipart/mixed are refused (406), and take no place', async () => {
  for (const accept of ['multipart/mixed', 'multipart/mixed; boundary="-"']) {
    const posted = await post('/graphql', ADMIN_TOKEN, accept);
    opened.push(posted);
    expect(posted.response.status).toBe(406);
    const got = await get('/graphql', ADMIN_TOKEN, accept);
    opened.push(got);
    expect(got.response.status).toBe(406);
  }
  expect(served.streams.openStreams()).toBe(0);
});
