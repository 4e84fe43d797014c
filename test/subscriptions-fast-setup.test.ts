import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { GraphQLError, parse } from 'graphql';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { announceProgress } from '../src/events/topics.ts';
import { countSubscription } from '../src/plugins/metrics-endpoint.ts';
import { encodeGlobalID } from '../src/schema/global-ids.ts';
import { notFound } from '../src/vocabulary/errors.ts';
import {
  ADMIN_TOKEN,
  createTestApp,
  type TestApp,
  testSettings,
  VIEWER_TOKEN,
} from './support/app.ts';
import { newJob } from './support/fixtures.ts';
import { type ServedApp, serveApp } from './support/http.ts';
import { PROGRESS_SUBSCRIPTION } from './support/sse.ts';

// The same requests to two servers on one database: `fast` sets known subscriptions up itself
// (src/http/sse/fast-setup.ts), `slow` (SSE_FAST_PATH=false) leaves every stream to yoga and
// graphql-sse. What their clients get must not differ, nor what they count and log.
const ORIGIN = 'http://dashboard.example';
type Server = { app: TestApp; served: ServedApp; lines: Record<string, unknown>[] };
let fast: Server;
let slow: Server;
let jobId: string;
let jobRowId: string;

async function serve(fastPath: boolean, database?: TestApp['database']): Promise<Server> {
  const settings = {
    ...testSettings({ SSE_FAST_PATH: String(fastPath) }),
    corsOrigins: [ORIGIN],
  };
  const app = await createTestApp({ settings, database, trainingData: !database });
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const limits = { maxStreamsPerToken: 100, maxStreams: 100, maxStreamBacklogBytes: 1 << 20 };
  return { app, served: await serveApp(app, limits, pino({ level: 'info' }, sink)), lines };
}

beforeEach(async () => {
  fast = await serve(true);
  slow = await serve(false, fast.app.database);
  jobRowId = (await newJob(fast.app.database.db)).id;
  jobId = encodeGlobalID('TrainingJob', jobRowId);
});
afterEach(async () => {
  for (const { served, app } of [fast, slow]) {
    await served.close();
    await app.close();
  }
});

type Exchange = { token?: string | null; body?: unknown; headers?: string };
type Answer = { text: string; id: string };
let requests = 0;

/**
 * What a client reads of a POSTed stream on a connection of its own, byte for byte, up to the
 * first result (or the end of an answer that ends at once), without the `Date` header and with
 * its request id (one per request, to find its access-log line) as `ID`. A chunked body is
 * given as its bytes, its end as `[end]`: how they were cut into chunks is HTTP's framing, which
 * no client sees (Node 24 sends the writes of one tick as one chunk, the libraries write one
 * message per tick).
 */
function exchange(server: Server, { token = ADMIN_TOKEN, body, headers = '' }: Exchange) {
  const json = JSON.stringify(body ?? { query: PROGRESS_SUBSCRIPTION, variables: { jobId } });
  const port = Number(new URL(server.served.origin).port);
  const id = `req-${String(++requests).padStart(6, '0')}`;
  return new Promise<Answer>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let got = '';
    let idle: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(idle);
      socket.destroy();
      resolve({ text: unchunked(got.replace(/\r\nDate: [^\r]*/, '').replaceAll(id, 'ID')), id });
    };
    socket.on('data', (data) => {
      got += data.toString();
      clearTimeout(idle);
      if (got.endsWith('0\r\n\r\n')) return done();
      // a result: wait a moment for anything that would follow it at once (a completion)
      const firstResult = /event: next\ndata: .*\n\n\r\n/.test(got);
      idle = setTimeout(done, firstResult ? 100 : 1000);
    });
    socket.on('error', reject);
    socket.write(
      [
        'POST /graphql/stream HTTP/1.1',
        'host: 127.0.0.1',
        'accept: text/event-stream',
        'content-type: application/json',
        `origin: ${ORIGIN}`,
        `x-request-id: ${id}`,
        ...(token ? [`authorization: Bearer ${token}`] : []),
        `content-length: ${Buffer.byteLength(json)}`,
        headers,
        json,
      ].join('\r\n'),
    );
  });
}

/** A response with its chunked body decoded (as far as it came). */
function unchunked(response: string): string {
  const [head = '', ...rest] = response.split('\r\n\r\n');
  if (!head.includes('Transfer-Encoding: chunked')) return response;
  let body = rest.join('\r\n\r\n');
  let text = '';
  for (;;) {
    const line = body.indexOf('\r\n');
    if (line < 0) return `${head}\r\n\r\n${text}`;
    const size = Number.parseInt(body.slice(0, line), 16);
    if (size === 0) return `${head}\r\n\r\n${text}[end]`;
    text += body.slice(line + 2, line + 2 + size);
    body = body.slice(line + 2 + size + 2);
  }
}

/**
 * The same request to both servers, once the fast one knows the subscription; `streamed`: the
 * fast set-up served it (a refusal it leaves to yoga).
 */
async function bothAfterPriming(request: Exchange, streamed = true) {
  await exchange(fast, {});
  const served = fast.app.fastSetup?.counts.served ?? 0;
  const [fastAnswer, slowAnswer] = [await exchange(fast, request), await exchange(slow, request)];
  expect(fast.app.fastSetup?.counts.served).toBe(served + (streamed ? 1 : 0));
  return { fastAnswer, slowAnswer };
}

/**
 * The access-log line of a request, without what differs between any two, and the bytes sent
 * (they count the chunks' framing too, see `exchange`).
 */
async function lineOf(server: Server, { id }: Answer) {
  const find = () => server.lines.find((line) => line.requestId === id);
  await vi.waitFor(() => expect(find()).toBeDefined());
  const { time, durationMs, pid, hostname, requestId, bytes, ...line } = find() ?? {};
  expect([time, durationMs, pid, hostname, requestId, bytes]).not.toContain(undefined);
  return line;
}

/** The operation counts of a server's /metrics. */
async function operationCounts(server: Server) {
  const response = await fetch(`${server.served.origin}/metrics`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  return (await response.text())
    .split('\n')
    .filter((line) =>
      /^graphql_envelop_(request_total|error_result\{|request_duration_count)/.test(line),
    );
}

test('a known subscription is set up here, answered byte for byte as the libraries answer it', async () => {
  expect((await exchange(fast, {})).text).toContain('event: next');
  expect(fast.app.fastSetup?.counts.served).toBe(0);
  expect(slow.app.fastSetup).toBeNull();

  const { fastAnswer, slowAnswer } = await bothAfterPriming({});
  expect(fastAnswer.text).toBe(slowAnswer.text);
  expect(fastAnswer.text).toContain(`access-control-allow-origin: ${ORIGIN}`);
  expect(fastAnswer.text).toContain('x-accel-buffering: no');
  expect(fastAnswer.text).toContain('x-request-id: ID');
  expect(await lineOf(fast, fastAnswer)).toEqual(await lineOf(slow, slowAnswer));
  await vi.waitFor(() => expect(fast.app.fanout.size).toBe(0));
});

test('the plugins that hook subscribing are the ones the fast set-up stands in for', () => {
  // A new plugin with one of these hooks means reviewing src/http/sse/fast-setup.ts, which does
  // their work itself for known subscriptions.
  const plugins = (fast.app.yoga as unknown as { plugins: Record<string, unknown>[] }).plugins;
  const hooking = (hook: string) => plugins.filter((plugin) => plugin[hook] !== undefined).length;
  // envelop's engine (replaced by the shared results), yoga's result processors (its HTTP
  // answers), its AbortError rule and masked errors; Prometheus, operation names, subscription
  // errors, shared results, stream limits (single-connection mode)
  expect(hooking('onSubscribe')).toBe(9);
  // yoga's, which adds the app's part
  expect(hooking('onContextBuilding')).toBe(1);
  expect(hooking('onEnveloped')).toBe(0);
  // envelop's engine, yoga's cache, its rule against mutations over GET, Prometheus, the operation
  // limits: a known text was parsed once (and is a subscription, POSTed)
  expect(hooking('onParse')).toBe(5);
});

/**
 * Holds every read of the jobs table until the returned release: PostgreSQL's ACCESS EXCLUSIVE
 * lock blocks readers; PGlite runs one transaction at a time anyway.
 */
async function holdJobReads(server: Server): Promise<() => Promise<void>> {
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let locked = () => {};
  const isLocked = new Promise<void>((resolve) => {
    locked = resolve;
  });
  const transaction = server.app.database.db.transaction(async (tx) => {
    await tx.execute(sql`LOCK TABLE training_jobs IN ACCESS EXCLUSIVE MODE`);
    locked();
    await released;
  });
  await isLocked;
  return async () => {
    release();
    await transaction;
  };
}

test('streams of a new text that come together wait for the first one: it alone takes the libraries’ way', async () => {
  const release = await holdJobReads(fast);
  // the first stream waits in yoga for its first update's read, the others for the first
  const answers = Array.from({ length: 5 }, () => exchange(fast, {}));
  await vi.waitFor(() => expect(fast.app.fastSetup?.counts.waited).toBe(4));
  expect(fast.app.fastSetup?.counts.served).toBe(0);
  await release();
  const fastAnswers = await Promise.all(answers);
  expect(fast.app.fastSetup?.counts.served).toBe(4);
  const slowAnswer = await exchange(slow, {});
  expect(slowAnswer.text).toContain('event: next');
  for (const answer of fastAnswers) expect(answer.text).toBe(slowAnswer.text);
});

test('when the first stream of a new text fails, those that waited for it take the libraries’ way', async () => {
  const release = await holdJobReads(fast);
  const unknownJob = {
    body: {
      query: PROGRESS_SUBSCRIPTION,
      variables: { jobId: encodeGlobalID('TrainingJob', '00000000-0000-4000-8000-000000000000') },
    },
  };
  const first = exchange(fast, unknownJob);
  const others = [exchange(fast, {}), exchange(fast, { token: VIEWER_TOKEN })];
  await vi.waitFor(() => expect(fast.app.fastSetup?.counts.waited).toBe(2));
  await release();
  const [firstAnswer, ...otherAnswers] = await Promise.all([first, ...others]);
  // the text is valid, but the first stream found no job: nothing became known
  expect(fast.app.fastSetup?.counts.served).toBe(0);
  expect(firstAnswer!.text).toBe((await exchange(slow, unknownJob)).text);
  expect(otherAnswers[0]!.text).toBe((await exchange(slow, {})).text);
  expect(otherAnswers[1]!.text).toBe((await exchange(slow, { token: VIEWER_TOKEN })).text);
});

test('an update that comes while a stream is set up goes out after its head and first update', async () => {
  await exchange(fast, {});
  await vi.waitFor(() => expect(fast.app.fanout.size).toBe(0));
  const job = await fast.app.training.getJob(jobRowId);
  const listening = fast.app.events.listenerCount();
  const release = await holdJobReads(fast);
  const answer = exchange(fast, {});
  // the stream listens before it reads the job: an update now is pending when it is handed over
  await vi.waitFor(() => expect(fast.app.events.listenerCount()).toBeGreaterThan(listening));
  const progressed = {
    ...job!,
    currentStep: 1,
    updatedAt: new Date(job!.updatedAt.getTime() + 1000),
  };
  announceProgress(fast.app.events, progressed, []);
  await release();
  const { text } = await answer;
  expect(fast.app.fastSetup?.counts.served).toBe(1);
  // Node 24 holds a response's writes of one tick; the fast path's own must not overtake them
  expect(text).toMatch(/^HTTP\/1.1 200 OK\r\n/);
  expect(text.split('event: next').length - 1).toBe(2);
  expect(text.indexOf('"currentStep":0')).toBeLessThan(text.indexOf('"currentStep":1'));
});

describe('refusals are left to yoga, and look the same as on the libraries’ path', () => {
  test.each<[string, Exchange]>([
    [
      'an unknown job',
      {
        body: {
          query: PROGRESS_SUBSCRIPTION,
          variables: {
            jobId: encodeGlobalID('TrainingJob', '00000000-0000-4000-8000-000000000000'),
          },
        },
      },
    ],
    ['a bad variable', { body: { query: PROGRESS_SUBSCRIPTION, variables: { jobId: 5 } } }],
    ['a missing variable', { body: { query: PROGRESS_SUBSCRIPTION } }],
    ['an unknown token', { token: 'not-a-token' }],
    ['no token', { token: null }],
  ])('%s', async (_name, request) => {
    const { fastAnswer, slowAnswer } = await bothAfterPriming(request, false);
    expect(fastAnswer.text).toMatch(/event: next\ndata: \{"errors":/);
    expect(fastAnswer.text).toBe(slowAnswer.text);
    expect(await lineOf(fast, fastAnswer)).toEqual(await lineOf(slow, slowAnswer));
  });
});

test('counts each operation as the libraries’ path does', async () => {
  const requests: Exchange[] = [{}, { token: VIEWER_TOKEN }, { token: 'not-a-token' }];
  for (const round of [1, 2]) {
    for (const request of requests) await exchange(fast, request);
    for (const request of requests) await exchange(slow, request);
    // the first stream made the subscription known: the fast server set up the viewer's and then
    // the admin's itself, and left the refusal to yoga
    expect(fast.app.fastSetup?.counts.served).toBe(round === 1 ? 1 : 3);
  }
  expect(await operationCounts(fast)).toEqual(await operationCounts(slow));
  expect((await operationCounts(fast)).length).toBeGreaterThan(0);
});

test('counts the errors of a result as the libraries’ path does', async () => {
  // yoga counts the refusal of an unknown job, a result with its errors; the fast set-up counts
  // the errors of the results it writes in the same way
  const missing = '00000000-0000-4000-8000-000000000000';
  await exchange(slow, {
    body: {
      query: PROGRESS_SUBSCRIPTION,
      variables: { jobId: encodeGlobalID('TrainingJob', missing) },
    },
  });
  const errorCounts = async (server: Server) =>
    (await operationCounts(server)).filter((line) => line.startsWith('graphql_envelop_error'));
  expect(await errorCounts(fast)).toEqual([]);
  const error = new GraphQLError('not found', { originalError: notFound('training job', missing) });
  countSubscription(fast.app.metrics.registry, parse(PROGRESS_SUBSCRIPTION), undefined).result({
    data: null,
    errors: [error],
  });
  expect(await errorCounts(fast)).toEqual(await errorCounts(slow));
  expect((await errorCounts(fast)).join()).toContain('code="NOT_FOUND"');
});

describe('everything else goes to yoga', () => {
  test.each<[string, Exchange]>([
    ['a first-time text', { body: { query: `${PROGRESS_SUBSCRIPTION} ` } }],
    [
      'an unknown operation name',
      { body: { query: PROGRESS_SUBSCRIPTION, operationName: 'Other' } },
    ],
    ['extensions', { body: { query: PROGRESS_SUBSCRIPTION, extensions: {} } }],
    ['a body that is no object', { body: [] }],
    ['a stream token (single-connection mode)', { headers: 'x-graphql-event-stream-token: t\r\n' }],
  ])('%s', async (_name, request) => {
    const body = Array.isArray(request.body)
      ? request.body
      : { query: PROGRESS_SUBSCRIPTION, ...(request.body as object), variables: { jobId } };
    await exchange(fast, {});
    const served = fast.app.fastSetup?.counts.served;
    const [fastAnswer, slowAnswer] = [
      await exchange(fast, { ...request, body }),
      await exchange(slow, { ...request, body }),
    ];
    expect(fast.app.fastSetup?.counts.served).toBe(served);
    expect(fastAnswer.text).toBe(slowAnswer.text);
  });
});
