import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { record } from '../dataset/helpers.ts';
import { ADMIN_TOKEN, createTestApp, ok, type TestApp, VIEWER_TOKEN } from '../support/app.ts';
import { type ServedApp, serveApp } from '../support/http.ts';
import { multipartFiles, type OversizedRequest, sendOversized, withFiller } from './oversized.ts';

// Over real HTTP: the limits apply where node:http receives a request (src/http/body-limits.ts).
const MAX_BODY_BYTES = 64 * 1024;
const MAX_UPLOAD_BYTES = 1024 * 1024;
/** What node reads past a limit: the rest of the socket read (64 KiB) that passed it, headers. */
const READ_PAST_LIMIT = 64 * 1024 + 4 * 1024;

let app: TestApp;
let served: ServedApp;
beforeAll(async () => {
  app = await createTestApp({
    settings: loadConfig({
      OCR_WORKERS: '1',
      MAX_BODY_BYTES: String(MAX_BODY_BYTES),
      MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES),
    }),
  });
  served = await serveApp(app);
});
afterAll(async () => {
  await served.close();
  await app.close();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const CREDENTIALS = [
  { who: 'no credentials', headers: {}, admin: false },
  { who: 'an admin token', headers: bearer(ADMIN_TOKEN), admin: true },
];
const IMPORT = JSON.stringify({
  query: 'mutation ($file: File!) { importDocuments(file: $file) { added } }',
  variables: { file: null },
});
const BOUNDARY = 'limits-test-boundary';
/** A multipart import form up to the start of its file's bytes. */
/** An import whose file never ends. */
const endlessImport = () =>
  multipartFiles(BOUNDARY, IMPORT, '{"0":["variables.file"]}', Number.POSITIVE_INFINITY);
const JSON_START = '{"query":"{ __typename }","variables":{"pad":"';

/** Sends `request` with a body of 10× `limit`; returns the answer and what the server read. */
async function flood(request: Omit<OversizedRequest, 'totalBytes'>, limit: number) {
  const answer = await sendOversized(served.origin, { ...request, totalBytes: 10 * limit });
  const serverRead = await served.readBeforeAnswer(answer.localPort);
  console.log(
    `${request.method} ${request.path} ${request.headers?.['content-type'] ?? ''}: ${answer.status}, server read ${serverRead} bytes before answering, client sent ${answer.sentBytes}`,
  );
  const error = answer.body.startsWith('{') ? JSON.parse(answer.body).errors?.[0] : undefined;
  return { ...answer, serverRead, error };
}

describe('bodies of 10× the limit', () => {
  // RSS around the floods only; the clients run in this process too (bench/limits measures the
  // server alone).
  let rssBefore: number;
  beforeAll(() => {
    rssBefore = process.memoryUsage().rss;
  });
  afterAll(() => {
    const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
    const rss = process.memoryUsage().rss;
    console.log(`RSS before ${mb(rssBefore)}, after ${mb(rss)}, growth ${mb(rss - rssBefore)}`);
  });

  describe.each(CREDENTIALS)(
    'a chunked body of 10× MAX_BODY_BYTES, with $who',
    ({ headers, admin }) => {
      // A form post that could come cross-site without a preflight is refused by the CSRF check,
      // and text/plain is no GraphQL content type: yoga answers those unread, the connection closes.
      const tooLarge = [413, 'PAYLOAD_TOO_LARGE'];
      test.each([
        { type: 'application/json', prefix: JSON_START, asAdmin: tooLarge, asAnyone: tooLarge },
        {
          type: 'application/graphql+json',
          prefix: JSON_START,
          asAdmin: tooLarge,
          asAnyone: tooLarge,
        },
        {
          type: 'application/x-www-form-urlencoded',
          prefix: 'query=%7B__typename%7D&pad=',
          asAdmin: tooLarge,
          asAnyone: [403, 'FORBIDDEN'],
        },
        {
          type: 'text/plain',
          prefix: '{ __typename }',
          asAdmin: [415, undefined],
          asAnyone: [403, 'FORBIDDEN'],
        },
      ])(
        'POST /graphql as $type: refused within the limit',
        async ({ type, prefix, ...expected }) => {
          const answer = await flood(
            {
              method: 'POST',
              path: '/graphql',
              headers: { ...headers, 'content-type': type },
              body: withFiller(prefix),
            },
            MAX_BODY_BYTES,
          );
          expect([answer.status, answer.error?.extensions.code]).toEqual(
            admin ? expected.asAdmin : expected.asAnyone,
          );
          if (answer.status === 413) expect(answer.error.extensions.limit).toBe('maxBodyBytes');
          expect(answer.serverRead).toBeLessThan(MAX_BODY_BYTES + READ_PAST_LIMIT);
        },
      );

      /** A single-connection reservation of an admin's, named by its stream token. */
      const reservation = async () => {
        const reserved = await fetch(`${served.origin}/graphql/stream`, {
          method: 'PUT',
          headers: bearer(ADMIN_TOKEN),
        });
        expect(reserved.status).toBe(201);
        return { 'x-graphql-event-stream-token': await reserved.text() };
      };
      test.each([
        {
          what: 'a distinct-connections stream',
          stream: async () => ({ accept: 'text/event-stream' }),
          prefix: JSON_START,
        },
        {
          what: 'an operation for a single-connection stream',
          stream: reservation,
          prefix: `{"extensions":{"operationId":"1"},${JSON_START.slice(1)}`,
        },
      ])('POST /graphql/stream, $what: 413 within the limit', async ({ stream, prefix }) => {
        const answer = await flood(
          {
            method: 'POST',
            path: '/graphql/stream',
            headers: { ...headers, 'content-type': 'application/json', ...(await stream()) },
            body: withFiller(prefix),
          },
          MAX_BODY_BYTES,
        );
        expect(answer.status).toBe(413);
        expect(answer.error.extensions.code).toBe('PAYLOAD_TOO_LARGE');
        expect(answer.serverRead).toBeLessThan(MAX_BODY_BYTES + READ_PAST_LIMIT);
      });

      test('GET /graphql with a body: answered without reading it, the connection closed', async () => {
        const answer = await flood(
          {
            method: 'GET',
            path: '/graphql?query=%7B__typename%7D',
            headers: { ...headers, 'x-graphql-yoga-csrf': '1' },
            body: withFiller(''),
          },
          MAX_BODY_BYTES,
        );
        expect(answer.status).toBe(200);
        expect(answer.serverRead).toBeLessThan(MAX_BODY_BYTES + READ_PAST_LIMIT);
      });
    },
  );

  describe('a single-connection reservation (PUT /graphql/stream) with a 10× body', () => {
    test('without credentials: UNAUTHENTICATED, unread', async () => {
      const answer = await flood(
        { method: 'PUT', path: '/graphql/stream', body: withFiller('') },
        MAX_BODY_BYTES,
      );
      expect(answer.status).toBe(401);
      expect(answer.error.extensions).toEqual({ code: 'UNAUTHENTICATED' });
      expect(answer.serverRead).toBeLessThan(READ_PAST_LIMIT);
    });

    test('with a token: reserved (graphql-sse reads no body), the connection closed', async () => {
      const answer = await flood(
        {
          method: 'PUT',
          path: '/graphql/stream',
          headers: bearer(VIEWER_TOKEN),
          body: withFiller(''),
        },
        MAX_BODY_BYTES,
      );
      expect(answer.status).toBe(201);
      expect(answer.serverRead).toBeLessThan(MAX_BODY_BYTES + READ_PAST_LIMIT);
    });
  });

  describe('a chunked multipart upload of 10× MAX_UPLOAD_BYTES', () => {
    const upload = (headers: Record<string, string>) =>
      flood(
        {
          method: 'POST',
          path: '/graphql',
          headers: { ...headers, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
          body: endlessImport(),
        },
        MAX_UPLOAD_BYTES,
      );

    test.each([
      { who: 'no credentials', headers: {}, status: 401, code: 'UNAUTHENTICATED' },
      {
        who: 'an unknown token',
        headers: bearer('not-a-known-token-0000'),
        status: 401,
        code: 'UNAUTHENTICATED',
      },
      { who: 'a viewer token', headers: bearer(VIEWER_TOKEN), status: 403, code: 'FORBIDDEN' },
    ])('with $who: $code before the body is read', async ({ headers, status, code }) => {
      const answer = await upload(headers);
      expect(answer.status).toBe(status);
      expect(answer.error.extensions).toEqual({ code });
      expect(answer.serverRead).toBeLessThan(READ_PAST_LIMIT);
    });

    test('with an admin token: 413 within MAX_UPLOAD_BYTES, nothing stored', async () => {
      const answer = await upload(bearer(ADMIN_TOKEN));
      expect(answer.status).toBe(413);
      expect(answer.error.extensions).toEqual({
        code: 'PAYLOAD_TOO_LARGE',
        limit: 'maxUploadBytes',
      });
      expect(answer.serverRead).toBeLessThan(MAX_UPLOAD_BYTES + READ_PAST_LIMIT);
      const stats = ok(
        await app.gql<{ datasetStats: { totalDocuments: number } }>(
          '{ datasetStats { totalDocuments } }',
        ),
      );
      expect(stats.datasetStats.totalDocuments).toBe(0);
    });
  });

  describe('a declared Content-Length over the limit', () => {
    test.each([
      {
        what: 'a JSON body without credentials',
        headers: { 'content-type': 'application/json' },
        body: () => withFiller(JSON_START),
        limit: MAX_BODY_BYTES,
        name: 'maxBodyBytes',
      },
      {
        what: "an admin's upload",
        headers: {
          'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
          ...bearer(ADMIN_TOKEN),
        },
        body: endlessImport,
        limit: MAX_UPLOAD_BYTES,
        name: 'maxUploadBytes',
      },
    ])(
      '$what is refused at once, before the body is read',
      async ({ headers, body, limit, name }) => {
        const answer = await flood(
          { method: 'POST', path: '/graphql', headers, body: body(), declareLength: true },
          limit,
        );
        expect(answer.status).toBe(413);
        expect(answer.error.extensions.limit).toBe(name);
        expect(answer.serverRead).toBeLessThan(READ_PAST_LIMIT);
      },
    );

    test('with Expect: 100-continue: refused without inviting the body', async () => {
      const answer = await flood(
        {
          method: 'POST',
          path: '/graphql',
          headers: {
            'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
            ...bearer(ADMIN_TOKEN),
          },
          body: endlessImport(),
          declareLength: true,
          expectContinue: true,
        },
        MAX_UPLOAD_BYTES,
      );
      expect(answer.status).toBe(413);
      expect(answer.continued).toBe(false);
      expect(answer.sentBytes).toBe(0);
    });
  });
});

describe('requests within the limits', () => {
  test('queries by POST and GET', async () => {
    const query = '{ trainingStatus { totalJobs } }';
    const posted = await fetch(`${served.origin}/graphql`, {
      method: 'POST',
      headers: { ...bearer(ADMIN_TOKEN), 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    expect(await posted.json()).toEqual({ data: { trainingStatus: { totalJobs: 0 } } });
    const got = await fetch(`${served.origin}/graphql?query=${encodeURIComponent(query)}`, {
      headers: bearer(ADMIN_TOKEN),
    });
    expect(await got.json()).toEqual({ data: { trainingStatus: { totalJobs: 0 } } });
  });

  test('a body just under MAX_BODY_BYTES, chunked', async () => {
    const pad = 'x'.repeat(MAX_BODY_BYTES - 200);
    const body = JSON.stringify({ query: '{ __typename }', extensions: { pad } });
    expect(body.length).toBeLessThan(MAX_BODY_BYTES);
    const response = await fetch(`${served.origin}/graphql`, {
      method: 'POST',
      headers: { ...bearer(ADMIN_TOKEN), 'content-type': 'application/json' },
      body: new Blob([body]).stream(),
      duplex: 'half',
    } as RequestInit);
    expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
  });

  test('an upload just under MAX_UPLOAD_BYTES is imported', async () => {
    const lines: string[] = [];
    let size = 0;
    while (size < MAX_UPLOAD_BYTES - 4096) {
      const line = JSON.stringify(record());
      lines.push(line);
      size += Buffer.byteLength(line) + 1;
    }
    const text = lines.join('\n');
    const form = new FormData();
    form.set('operations', IMPORT);
    form.set('map', '{"0":["variables.file"]}');
    form.set('0', new File([text], 'docs.jsonl', { type: 'application/jsonl' }));
    const response = await fetch(`${served.origin}/graphql`, {
      method: 'POST',
      headers: bearer(ADMIN_TOKEN),
      body: form,
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      data: { importDocuments: { added: lines.length } },
    });
  });
});
