import { once } from 'node:events';
import { type Client, createClient } from 'graphql-ws';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import WebSocket from 'ws';
import { encodeGlobalID } from '../src/schema/global-ids.ts';
import {
  ADMIN_TOKEN,
  createTestApp,
  type TestApp,
  testSettings,
  VIEWER_TOKEN,
} from './support/app.ts';
import { newJob } from './support/fixtures.ts';
import { type ServedApp, serveApp } from './support/http.ts';
import { sampleOf } from './support/metrics.ts';
import { EVENT_STREAM_HEADERS, PROGRESS_SUBSCRIPTION, type ProgressResult } from './support/sse.ts';

// graphql-ws on /graphql against the real server: auth, roles, stream limits, message limits,
// shutdown. The client set-ups (Apollo Client, urql) are in clients.test.ts.

let app: TestApp;
let served: ServedApp;
const clients: Client[] = [];

beforeEach(async () => {
  app = await createTestApp({ trainingData: true });
});
afterEach(async () => {
  for (const client of clients.splice(0)) await client.dispose();
  await served?.close();
  await app.close();
});

const wsUrl = () => `${served.origin.replace('http', 'ws')}/graphql`;

/** A graphql-ws client without retries; `token: null` sends none. */
function wsClient(token: string | null = ADMIN_TOKEN, url = wsUrl()): Client {
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
  });
  clients.push(client);
  return client;
}

/** The one result of a query or mutation, or the error the operation failed with. */
async function single(client: Client, query: string, variables?: Record<string, unknown>) {
  try {
    for await (const result of client.iterate({ query, variables })) return result;
    throw new Error('no result');
  } catch (error) {
    return { thrown: error };
  }
}

/** A raw WebSocket speaking graphql-transport-ws; resolves with its close code and reason. */
async function rawSocket(headers: Record<string, string> = {}) {
  const socket = new WebSocket(wsUrl(), 'graphql-transport-ws', { headers });
  const closed = once(socket, 'close').then(([code, reason]) => ({
    code: code as number,
    reason: String(reason),
  }));
  await once(socket, 'open');
  return { socket, closed };
}

const STATUS = 'query { trainingStatus { totalJobs } }';
const CREATE =
  'mutation { createTrainingJob(input: { name: "ws", bundeslaender: ["HH"] }) { name } }';

describe('auth', () => {
  beforeEach(async () => {
    served = await serveApp(app);
  });

  test('a token in connectionParams: queries and mutations by role, as over HTTP', async () => {
    const admin = wsClient(ADMIN_TOKEN);
    expect(await single(admin, STATUS)).toEqual({ data: { trainingStatus: { totalJobs: 0 } } });
    expect(await single(admin, CREATE)).toEqual({ data: { createTrainingJob: { name: 'ws' } } });

    const viewer = wsClient(VIEWER_TOKEN);
    expect(await single(viewer, STATUS)).toEqual({ data: { trainingStatus: { totalJobs: 1 } } });
    const refused = (await single(viewer, CREATE)) as { errors?: { extensions?: unknown }[] };
    expect(refused.errors?.map((e) => e.extensions)).toEqual([{ code: 'FORBIDDEN' }]);
  });

  test('the token in the upgrade request’s Authorization header also counts', async () => {
    const { socket } = await rawSocket({ authorization: `Bearer ${VIEWER_TOKEN}` });
    socket.send(JSON.stringify({ type: 'connection_init' }));
    const [ack] = await once(socket, 'message');
    expect(JSON.parse(String(ack))).toEqual({ type: 'connection_ack' });
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: STATUS } }));
    const [next] = await once(socket, 'message');
    expect(JSON.parse(String(next))).toEqual({
      id: '1',
      type: 'next',
      payload: { data: { trainingStatus: { totalJobs: 0 } } },
    });
    socket.close();
  });

  test('no token or an unknown one: the connection is closed with 4401 at connection_init', async () => {
    for (const params of [{}, { authorization: 'Bearer not-a-known-token-at-all' }]) {
      const { socket, closed } = await rawSocket();
      socket.send(JSON.stringify({ type: 'connection_init', payload: params }));
      const { code, reason } = await closed;
      expect(code).toBe(4401);
      expect(reason).toMatch(/Authentication required|Unknown token/);
    }
    const refused = (await single(wsClient(null), STATUS)) as { thrown: { code?: number } };
    expect(refused.thrown.code).toBe(4401);
  });

  test('errors carry the contract codes: bad input, validation', async () => {
    const client = wsClient();
    const missing = (await single(client, 'query { trainingJob(id: "nope") { id } }')) as {
      errors?: { extensions?: { code?: string } }[];
    };
    expect(missing.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const invalid = (await single(client, 'query { noSuchField }')) as { thrown: unknown };
    expect(invalid.thrown).toEqual([
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }),
    ]);
  });
});

describe('limits', () => {
  test('ws subscriptions count against the per-token stream limit shared with SSE, until they end', async () => {
    served = await serveApp(app, {
      maxStreamsPerToken: 2,
      maxStreams: 100,
      maxStreamBacklogBytes: 1024 * 1024,
    });
    const job = await newJob(app.database.db, 'limits');
    const variables = { jobId: encodeGlobalID('TrainingJob', job.id) };
    const client = wsClient();
    const open = () => {
      const events = client.iterate({ query: PROGRESS_SUBSCRIPTION, variables });
      return events as AsyncIterableIterator<ProgressResult>;
    };
    const first = open();
    const second = open();
    expect((await first.next()).value?.data?.trainingProgress.job.status).toBe('QUEUED');
    expect((await second.next()).value?.data?.trainingProgress.job.status).toBe('QUEUED');
    expect(served.streams.openStreams()).toBe(2);
    const metrics = await app.yoga.fetch('http://test/metrics', {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(sampleOf(await metrics.text(), 'streams_open', { kind: 'graphql-ws' })).toBe(2);

    // a third over ws is refused with the limit's code
    await expect(open().next()).rejects.toEqual([
      expect.objectContaining({
        extensions: { code: 'FORBIDDEN', limit: 'maxStreamsPerToken' },
      }),
    ]);
    // and so is an event stream of the same token
    const body = JSON.stringify({ query: PROGRESS_SUBSCRIPTION, variables });
    const sse = () =>
      fetch(`${served.origin}/graphql/stream`, {
        method: 'POST',
        headers: EVENT_STREAM_HEADERS,
        body,
      });
    expect((await sse()).status).toBe(429);
    // another token has its own places
    const viewer = wsClient(VIEWER_TOKEN).iterate({ query: PROGRESS_SUBSCRIPTION, variables });
    expect((await viewer.next()).done).toBe(false);
    await viewer.return?.();

    await first.return?.();
    await vi.waitFor(() => expect(served.streams.openStreams()).toBe(1));
    const stream = await sse();
    expect(stream.status).toBe(200);
    await stream.body?.cancel();

    // closing the socket ends its subscriptions and gives their places back
    await client.dispose();
    await vi.waitFor(() => expect(served.streams.openStreams()).toBe(0));
  });

  test('a message over MAX_BODY_BYTES closes the connection (1009) before it is taken in', async () => {
    served = await serveApp(app);
    const { socket, closed } = await rawSocket();
    socket.send(
      JSON.stringify({ type: 'connection_init', payload: { authorization: ADMIN_TOKEN } }),
    );
    await once(socket, 'message');
    socket.send('x'.repeat(app.limits.maxBodyBytes + 1));
    expect((await closed).code).toBe(1009);
  });

  test('a connection that does not initialise in time is closed (4408)', async () => {
    await app.close();
    app = await createTestApp({
      trainingData: true,
      settings: testSettings({ WS_INIT_TIMEOUT_MS: '50' }),
    });
    served = await serveApp(app);
    const { closed } = await rawSocket();
    expect((await closed).code).toBe(4408);
  });
});
