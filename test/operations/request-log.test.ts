import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest';
import { encodeGlobalID } from '../../src/schema/global-ids.ts';
import { ADMIN_TOKEN, createTestApp, type TestApp } from '../support/app.ts';
import { newJob } from '../support/fixtures.ts';
import { type ServedApp, serveApp } from '../support/http.ts';
import { FakeRunner } from '../support/runner.ts';
import { nextResult, openEventStream, PROGRESS_SUBSCRIPTION } from '../support/sse.ts';

type LogLine = Record<string, unknown> & { msg?: string; requestId?: string };

let lines: LogLine[];
let app: TestApp;
let served: ServedApp;
beforeAll(async () => {
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  app = await createTestApp({ logger, trainingData: true });
  served = await serveApp(app, undefined, logger);
});
beforeEach(() => {
  lines = [];
});
afterAll(async () => {
  await served.close();
  await app.close();
});

const post = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${served.origin}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${ADMIN_TOKEN}`,
      ...headers,
    },
    body: JSON.stringify(body),
  });

/** The access-log line of the request `id` (written when its response closed). */
async function accessLine(id: string): Promise<LogLine> {
  await vi.waitFor(() =>
    expect(lines.some((l) => l.msg === 'request' && l.requestId === id)).toBe(true),
  );
  return lines.find((l) => l.msg === 'request' && l.requestId === id) as LogLine;
}

describe('request ids', () => {
  test("a caller's acceptable id is kept and returned", async () => {
    const response = await post(
      { query: '{ trainingStatus { totalJobs } }' },
      {
        'x-request-id': 'trace-42.a:b_c',
      },
    );
    expect(response.headers.get('x-request-id')).toBe('trace-42.a:b_c');
    await response.text();
    await accessLine('trace-42.a:b_c');
  });

  test('an id that is too long or has unsafe characters is replaced by a new one', async () => {
    for (const given of ['x'.repeat(65), 'evil id\\"', 'ü']) {
      const response = await post(
        { query: '{ trainingStatus { totalJobs } }' },
        {
          'x-request-id': encodeURI(given) === given ? given : encodeURIComponent(given),
        },
      );
      const id = response.headers.get('x-request-id') ?? '';
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      await response.text();
    }
    const none = await post({ query: '{ trainingStatus { totalJobs } }' });
    expect(none.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('refusals before yoga carry the id too', async () => {
    const response = await fetch(`${served.origin}/graphql/stream`, {
      method: 'PUT',
      headers: { 'x-request-id': 'refused-1' },
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('x-request-id')).toBe('refused-1');
    expect((await accessLine('refused-1')).status).toBe(401);
  });
});

describe('the access log', () => {
  test('one line per request: method, path, operation, status, duration, bytes and id', async () => {
    const response = await post(
      { query: 'query Overview { trainingStatus { totalJobs } }' },
      { 'x-request-id': 'access-1' },
    );
    const body = await response.text();
    const line = await accessLine('access-1');
    expect(line).toMatchObject({
      level: 30,
      method: 'POST',
      path: '/graphql',
      operationName: 'Overview',
      status: 200,
      requestId: 'access-1',
    });
    expect(line.durationMs).toEqual(expect.any(Number));
    expect(line.bytes).toBeGreaterThan(Buffer.byteLength(body));
    expect(lines.filter((l) => l.requestId === 'access-1' && l.msg === 'request')).toHaveLength(1);
  });

  test('the operation of a document with one unnamed-by-the-client operation is named', async () => {
    await (
      await post(
        { query: 'query Counted { trainingStatus { totalJobs } }' },
        { 'x-request-id': 'op-1' },
      )
    ).text();
    expect((await accessLine('op-1')).operationName).toBe('Counted');
  });

  test('the line of an event stream comes when it ends, with its duration and updates', async () => {
    const runner = new FakeRunner(app.database.db, app.events);
    const job = await runner.start((await newJob(app.database.db)).id);
    const stream = await openEventStream(
      `${served.origin}/graphql`,
      { query: PROGRESS_SUBSCRIPTION, variables: { jobId: encodeGlobalID('TrainingJob', job.id) } },
      { 'x-request-id': 'stream-1' },
    );
    expect(stream.response.headers.get('x-request-id')).toBe('stream-1');
    await nextResult(stream.blocks);
    await runner.step(job.id, 1);
    await nextResult(stream.blocks);
    await runner.step(job.id, 1);
    await nextResult(stream.blocks);
    expect(lines.some((l) => l.requestId === 'stream-1' && l.msg === 'request')).toBe(false);
    stream.close();
    const line = await accessLine('stream-1');
    expect(line).toMatchObject({ path: '/graphql', operationName: 'Progress', events: 3 });
    expect(line.durationMs).toEqual(expect.any(Number));
  });

  test("an event stream's response keeps no copy of its headers: the id goes out with them", async () => {
    let streamResponse: ServerResponse | undefined;
    const capture = (req: IncomingMessage, res: ServerResponse) => {
      if (req.headers['x-request-id'] === 'kept-1') streamResponse = res;
    };
    served.server.on('request', capture);
    const job = await newJob(app.database.db);
    const stream = await openEventStream(
      `${served.origin}/graphql`,
      { query: PROGRESS_SUBSCRIPTION, variables: { jobId: encodeGlobalID('TrainingJob', job.id) } },
      { 'x-request-id': 'kept-1' },
    );
    served.server.off('request', capture);
    expect(stream.response.headers.get('x-request-id')).toBe('kept-1');
    expect(stream.response.headers.get('content-type')).toContain('text/event-stream');
    await nextResult(stream.blocks);
    // node keeps a map of the headers for a response's lifetime only if one was set beforehand
    expect(streamResponse?.getHeaderNames()).toEqual([]);
    stream.close();
  });

  test("yoga's log lines keep their objects: an error with its stack, fields as fields", () => {
    app.yoga.logger.error(new Error('boom'), { jobId: 'j1' }, 'while', 'testing');
    const line = lines.at(-1) as LogLine & { err: { message: string; stack: string } };
    expect(line).toMatchObject({ level: 50, msg: 'while testing', jobId: 'j1' });
    expect(line.err.message).toBe('boom');
    expect(line.err.stack).toContain('request-log.test.ts');
  });
});
