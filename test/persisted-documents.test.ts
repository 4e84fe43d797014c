import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApolloClient, gql, HttpLink, InMemoryCache } from '@apollo/client/core';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { print } from '@apollo/client/utilities';
import { createClient as createSseClient } from 'graphql-sse';
import { type Client, createClient as createWsClient } from 'graphql-ws';
import { afterEach, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { TrustedDocuments } from '../src/plugins/persisted/manifest.ts';
import { encodeGlobalID } from '../src/schema/global-ids.ts';
import { ADMIN_TOKEN, createTestApp, type TestApp, testSettings } from './support/app.ts';
import { newJob } from './support/fixtures.ts';
import { type ServedApp, serveApp } from './support/http.ts';

// Automatic Persisted Queries (any document runs) and TRUSTED_DOCUMENTS (listed ones only),
// against the real server: /graphql, /graphql/stream (graphql-sse) and graphql-ws.

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const headers = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };

const STATUS = 'query Status {\n  trainingStatus {\n    totalJobs\n  }\n}';
const JOB_STATUS =
  'subscription JobStatus($jobId: ID!) { trainingProgress(jobId: $jobId) { job { status } } }';
const APOLLO_STATUS = print(new InMemoryCache().transformDocument(gql(STATUS)));
const UNLISTED = 'query Unlisted { trainingStatus { queuedJobs } }';

let app: TestApp;
let served: ServedApp;
/** Apps started by the test, closed after it. */
const running: (() => Promise<void>)[] = [];
async function start(settings?: ReturnType<typeof testSettings>) {
  app = await createTestApp({ trainingData: true, ...(settings ? { settings } : {}) });
  served = await serveApp(app);
  const [a, s] = [app, served];
  running.push(async () => {
    await s.close();
    await a.close();
  });
}
let ws: Client | undefined;
afterEach(async () => {
  await ws?.dispose();
  ws = undefined;
  for (const close of running.splice(0)) await close();
});

/** POSTs a GraphQL body to /graphql; the requests' bodies are recorded in `sent`. */
const sent: Record<string, unknown>[] = [];
const recordingFetch: typeof fetch = (input, init) => {
  sent.push(JSON.parse(String(init?.body)));
  return fetch(input, init);
};
async function post(body: Record<string, unknown>) {
  const response = await fetch(`${served.origin}/graphql`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
  });
  return { status: response.status, ...(await response.json()) };
}

const apollo = () =>
  new ApolloClient({
    cache: new InMemoryCache(),
    link: new PersistedQueryLink({ sha256 }).concat(
      new HttpLink({ uri: `${served.origin}/graphql`, headers, fetch: recordingFetch }),
    ),
  });

function wsClient(): Client {
  ws = createWsClient({
    url: `${served.origin.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${ADMIN_TOKEN}` },
    retryAttempts: 0,
  });
  return ws;
}

/** The first result of an operation over graphql-ws, or the errors it failed with. */
async function overWs(payload: { query: string; documentId?: string }) {
  try {
    for await (const result of wsClient().iterate(payload)) return result;
  } catch (errors) {
    return { errors: errors as unknown[] };
  }
}

describe('Automatic Persisted Queries (TRUSTED_DOCUMENTS unset)', () => {
  test("Apollo's persisted-query link: the hash first, the text once, then the hash alone", async () => {
    await start();
    sent.length = 0;
    const query = gql(STATUS);

    const first = await apollo().query({ query, fetchPolicy: 'network-only' });
    expect(first.data).toEqual({
      trainingStatus: { __typename: 'TrainingSystemStatus', totalJobs: 0 },
    });
    // unknown hash (PERSISTED_QUERY_NOT_FOUND), then the text with its hash
    expect(sent.map((body) => 'query' in body)).toEqual([false, true]);

    sent.length = 0;
    const again = await apollo().query({ query, fetchPolicy: 'network-only' });
    expect(again.data).toEqual(first.data);
    expect(sent.map((body) => 'query' in body)).toEqual([false]);
  });

  test('an unknown hash is PERSISTED_QUERY_NOT_FOUND; a hash that does not match the text is refused', async () => {
    await start();
    const unknown = await post({
      extensions: { persistedQuery: { version: 1, sha256Hash: sha256('x') } },
    });
    expect(unknown.errors.map((e: { extensions: unknown }) => e.extensions)).toEqual([
      expect.objectContaining({ code: 'PERSISTED_QUERY_NOT_FOUND' }),
    ]);
    const mismatch = await post({
      query: STATUS,
      extensions: { persistedQuery: { version: 1, sha256Hash: sha256('x') } },
    });
    expect(mismatch.errors[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'PERSISTED_QUERY_MISMATCH',
    });
    // any document runs, over graphql-ws too
    expect(await overWs({ query: UNLISTED })).toEqual({
      data: { trainingStatus: { queuedJobs: 0 } },
    });
  });
});

describe('TRUSTED_DOCUMENTS', () => {
  /** An app whose trusted documents are STATUS and JOB_STATUS, in Apollo's manifest format. */
  async function trustedApp() {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'trusted-')), 'manifest.json');
    const operations = [
      { id: sha256(STATUS), name: 'Status', type: 'query', body: STATUS },
      { id: sha256(JOB_STATUS), name: 'JobStatus', type: 'subscription', body: JOB_STATUS },
      // as Apollo Client sends it (with __typename), as Apollo's manifest generator lists it
      { id: sha256(APOLLO_STATUS), name: 'Status', type: 'query', body: APOLLO_STATUS },
    ];
    writeFileSync(
      file,
      JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations }),
    );
    await start(testSettings({ TRUSTED_DOCUMENTS: file }));
  }

  test('listed documents run by documentId, by APQ hash (Apollo’s link) and as their text', async () => {
    await trustedApp();
    const data = { trainingStatus: { totalJobs: 0 } };
    expect(await post({ documentId: sha256(STATUS) })).toEqual({ status: 200, data });
    expect(await post({ query: STATUS })).toEqual({ status: 200, data });

    sent.length = 0;
    const viaLink = await apollo().query({ query: gql(STATUS) });
    expect(viaLink.data).toMatchObject({ trainingStatus: { totalJobs: 0 } });
    expect(sent.map((body) => 'query' in body)).toEqual([false]);
  });

  test('anything else is refused with a code: unknown ids, unlisted text', async () => {
    await trustedApp();
    const unknown = await post({ documentId: sha256(UNLISTED) });
    expect(unknown.errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    const unlisted = await post({ query: UNLISTED });
    expect(unlisted.status).toBe(403);
    expect(unlisted.errors[0].extensions).toMatchObject({
      code: 'FORBIDDEN',
      reason: 'PERSISTED_QUERY_ONLY',
    });
    // an unlisted document is refused however often it is sent (parsed documents are cached)
    expect((await post({ query: UNLISTED })).errors[0].extensions.code).toBe('FORBIDDEN');
  });

  test('graphql-ws: by documentId or listed text; unlisted text refused', async () => {
    await trustedApp();
    const data = { trainingStatus: { totalJobs: 0 } };
    expect(await overWs({ query: '', documentId: sha256(STATUS) })).toEqual({ data });
    expect(await overWs({ query: STATUS })).toEqual({ data });
    expect(await overWs({ query: UNLISTED })).toMatchObject({
      data: null,
      errors: [{ extensions: { code: 'FORBIDDEN', reason: 'PERSISTED_QUERY_ONLY' } }],
    });
    expect(await overWs({ query: '', documentId: 'nope' })).toEqual({
      errors: [
        expect.objectContaining({
          extensions: expect.objectContaining({ code: 'PERSISTED_QUERY_NOT_FOUND' }),
        }),
      ],
    });
  });

  test('graphql-sse on /graphql/stream: listed subscriptions run, unlisted ones are refused', async () => {
    await trustedApp();
    const job = await newJob(app.database.db, 'trusted');
    const variables = { jobId: encodeGlobalID('TrainingJob', job.id) };
    const sse = createSseClient({
      url: `${served.origin}/graphql/stream`,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      retryAttempts: 0,
    });
    try {
      const listed = sse.iterate({ query: JOB_STATUS, variables });
      expect((await listed.next()).value).toEqual({
        data: { trainingProgress: { job: { status: 'QUEUED' } } },
      });
      await listed.return?.();
      const unlisted = sse.iterate({
        query: JOB_STATUS.replace('status', 'status progress'),
        variables,
      });
      expect((await unlisted.next()).value).toMatchObject({
        data: null,
        errors: [{ extensions: { code: 'FORBIDDEN', reason: 'PERSISTED_QUERY_ONLY' } }],
      });
    } finally {
      sse.dispose();
    }
  });
});

describe('manifests', () => {
  test("GraphQL Code Generator's { hash: document } is read as Apollo's format is", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'manifest-'));
    const file = path.join(dir, 'persisted-documents.json');
    writeFileSync(file, JSON.stringify({ [sha256(STATUS)]: STATUS }));
    const documents = TrustedDocuments.fromFile(file);
    expect(documents.document(sha256(STATUS))).toBe(STATUS);
    expect(documents.lists(STATUS)).toBe(true);
    expect(documents.lists(UNLISTED)).toBe(false);

    writeFileSync(file, JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 2 }));
    expect(() => TrustedDocuments.fromFile(file)).toThrow(/neither/);
    writeFileSync(file, JSON.stringify({ a: 'query {' }));
    expect(() => TrustedDocuments.fromFile(file)).toThrow(/document a/);
  });
});
