import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { encodeGlobalID } from '../../src/schema/global-ids.ts';
import {
  ADMIN_TOKEN,
  createTestApp,
  type TestApp,
  testSettings,
  VIEWER_TOKEN,
} from '../support/app.ts';
import { newJob } from '../support/fixtures.ts';
import { type ServedApp, serveApp } from '../support/http.ts';

// One app served twice: `fast` sends answers from the response cache itself
// (src/http/cached-answers.ts), `yoga` leaves every request to yoga. Both read the same cache, so
// an answer from one entry must be the same bytes on both, and so must what they log.
const ORIGIN = 'http://dashboard.example';
const STATUS = '{ trainingStatus { isTraining totalJobs queuedJobs activeJob { id name } } }';
const JOB = 'query Job($id: ID!) { trainingJob(id: $id) { id name status } }';

type Server = { served: ServedApp; lines: Record<string, unknown>[] };
let app: TestApp;
let fast: Server;
let yoga: Server;
let jobId: string;

async function serve(cachedAnswers: boolean): Promise<Server> {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const served = await serveApp(
    cachedAnswers ? app : { ...app, cachedAnswers: null },
    undefined,
    pino({ level: 'info' }, sink),
  );
  return { served, lines };
}

beforeEach(async () => {
  app = await createTestApp({
    settings: { ...testSettings(), corsOrigins: [ORIGIN] },
    trainingData: true,
  });
  fast = await serve(true);
  yoga = await serve(false);
  jobId = encodeGlobalID('TrainingJob', (await newJob(app.database.db)).id);
});
afterEach(async () => {
  for (const { served } of [fast, yoga]) await served.close();
  await app.close();
});

type Exchange = { token?: string | null; body?: unknown; headers?: string[] };
let requests = 0;

/**
 * What a client reads of a POST to /graphql on a connection of its own, byte for byte, without
 * the `Date` header and with its request id (one per request, to find its access-log line) as
 * `ID`.
 */
function exchange(server: Server, { token = ADMIN_TOKEN, body, headers = [] }: Exchange) {
  const json = typeof body === 'string' ? body : JSON.stringify(body ?? { query: STATUS });
  const port = Number(new URL(server.served.origin).port);
  const id = `req-${String(++requests).padStart(6, '0')}`;
  return new Promise<{ text: string; id: string }>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let got = '';
    socket.on('data', (data) => {
      got += data.toString();
      const head = got.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: (\d+)/i.exec(got);
      const whole = length
        ? got.length - head - 4 >= Number(length[1])
        : got.endsWith('\r\n0\r\n\r\n');
      if (head < 0 || !whole) return;
      socket.destroy();
      resolve({ text: got.replace(/\r\nDate: [^\r]*/, '').replaceAll(id, 'ID'), id });
    });
    socket.on('error', reject);
    socket.on('close', () => resolve({ text: got.replaceAll(id, 'ID'), id }));
    socket.write(
      [
        'POST /graphql HTTP/1.1',
        'host: 127.0.0.1',
        `x-request-id: ${id}`,
        ...(token ? [`authorization: Bearer ${token}`] : []),
        ...(headers.some((h) => h.startsWith('content-type:'))
          ? []
          : ['content-type: application/json']),
        ...headers,
        `content-length: ${Buffer.byteLength(json)}`,
        '',
        json,
      ].join('\r\n'),
    );
  });
}

const served = () => app.cachedAnswers?.counts.served ?? 0;

/** The access-log line of a request, without what differs between two runs of it. */
const accessLine = (server: Server, id: string) => {
  const line = server.lines.find((l) => l.requestId === id && l.msg === 'request');
  if (!line) return line;
  const { time: _t, pid: _p, hostname: _h, durationMs: _d, requestId: _r, ...rest } = line;
  return rest;
};

const VARIANTS: { name: string; exchange: () => Exchange }[] = [
  { name: 'no Accept', exchange: () => ({}) },
  {
    name: 'a GraphQL-over-HTTP client (Accept, Origin)',
    exchange: () => ({
      headers: [`origin: ${ORIGIN}`, 'accept: application/graphql-response+json, application/json'],
    }),
  },
  { name: 'another origin', exchange: () => ({ headers: ['origin: http://elsewhere.example'] }) },
  { name: 'a viewer', exchange: () => ({ token: VIEWER_TOKEN }) },
  {
    name: 'a named operation with variables',
    exchange: () => ({
      body: { query: JOB, operationName: 'Job', variables: { id: jobId } },
      headers: ['content-type: application/json; charset=utf-8'],
    }),
  },
];

describe('answers from the response cache', () => {
  test.each(VARIANTS)(
    '$name: the same bytes and access line as yoga’s, sent without yoga',
    async ({ exchange: request }) => {
      // yoga answers first (the result is stored) and then from the cache, over both servers
      const first = await exchange(yoga, request());
      expect(first.text).toMatch(/^HTTP\/1.1 200 OK\r\n/);
      const before = served();
      const byYoga = await exchange(yoga, request());
      const byFast = await exchange(fast, request());
      expect(served()).toBe(before + 1);
      expect(byFast.text).toBe(byYoga.text);
      expect(byFast.text).toMatch(/\r\nETag: /);
      expect(accessLine(fast, byFast.id)).toEqual(accessLine(yoga, byYoga.id));
    },
  );

  test('each role gets its own answer; none without a token yoga accepts', async () => {
    await exchange(yoga, {});
    await exchange(yoga, { token: VIEWER_TOKEN });
    const before = served();
    for (const token of [null, 'not-a-token']) {
      const byYoga = await exchange(yoga, { token });
      const byFast = await exchange(fast, { token });
      expect(byFast.text).toBe(byYoga.text);
      expect(byFast.text).toContain('UNAUTHENTICATED');
    }
    expect(served()).toBe(before);
  });

  test('a change is in the next answer: no stale result is sent', async () => {
    const totalJobs = (text: string) =>
      (
        JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as {
          data: { trainingStatus: { totalJobs: number } };
        }
      ).data.trainingStatus.totalJobs;
    await exchange(yoga, {});
    const before = served();
    expect(totalJobs((await exchange(fast, {})).text)).toBe(1);
    const created = await exchange(fast, {
      body: {
        query:
          'mutation { createTrainingJob(input: { name: "new", bundeslaender: ["NW"] }) { id } }',
      },
    });
    expect(created.text).toMatch(/^HTTP\/1.1 200 OK/);
    // the mutation dropped the stored result: yoga answers, then the new result is sent here
    expect(totalJobs((await exchange(fast, {})).text)).toBe(2);
    expect(totalJobs((await exchange(fast, {})).text)).toBe(2);
    expect(served()).toBe(before + 2);
  });

  test.each([
    {
      name: 'a conditional request (yoga answers 304)',
      exchange: (etag: string) => ({ headers: [`if-none-match: ${etag}`] }),
    },
    {
      name: 'a body with extensions (APQ)',
      exchange: () => ({
        body: { query: STATUS, extensions: { persistedQuery: { version: 1, sha256Hash: 'x' } } },
      }),
    },
    {
      name: 'a body with a document id',
      exchange: () => ({ body: { query: STATUS, documentId: 'x' } }),
    },
    { name: 'a batch', exchange: () => ({ body: [{ query: STATUS }] }) },
    {
      name: 'a text/plain body (yoga’s CSRF rule)',
      exchange: () => ({ headers: ['content-type: text/plain'] }),
    },
    {
      name: 'an event stream',
      exchange: () => ({ headers: ['accept: text/event-stream'] }),
    },
    { name: 'a body that is not JSON', exchange: () => ({ body: '{"query":' }) },
  ])('left to yoga: $name', async ({ exchange: request }) => {
    const stored = await exchange(yoga, {});
    const etag = /\r\nETag: ([^\r]*)/.exec(stored.text)?.[1] ?? '';
    const before = served();
    const byYoga = await exchange(yoga, request(etag));
    const byFast = await exchange(fast, request(etag));
    expect(served()).toBe(before);
    expect(byFast.text).toBe(byYoga.text);
  });
});
