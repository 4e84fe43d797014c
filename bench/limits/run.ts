/**
 * Request limits, from outside: starts the server as `npm start` does (its default limits;
 * PGlite in a fresh DATA_DIR, no demo data, no runner, two known tokens), sends chunked bodies of
 * 10× their limit to every endpoint, with and without credentials, and prints
 *   - for all of them in parallel: the server's RSS before, at its peak (VmHWM, reset before, and
 *     VmRSS sampled) and after; before and after are read after a full collection in the server
 *     (collect-on-signal.mjs), so that garbage left from its start does not hide growth;
 *   - for each alone: its answer, and the bytes the server process read (rchar of
 *     /proc/<pid>/io) until the client saw the answer, and in all.
 * An admin's upload is measured apart, each phase on a fresh server: yoga's multipart parser
 * keeps an upload's files in memory as File objects, so an admin can by design make the server
 * hold up to MAX_UPLOAD_BYTES per request; the last phase shows it for an upload the limits allow.
 *
 * Targets: each 10× body refused (413, or a refusal before its body is read) within its limit's
 * bytes; RSS growth of the parallel floods without an admin's upload < 64 MB.
 *
 * Usage: `npm run bench:limits` (Linux: reads /proc).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config.ts';
import {
  multipartFiles,
  type OversizedRequest,
  sendOversized,
  withFiller,
} from '../../test/hardening/oversized.ts';
import { startChild, stopChild } from '../../test/support/processes.ts';

const ADMIN = 'bench-admin-token-0123456789';
const VIEWER = 'bench-viewer-token-0123456789';
const { maxBodyBytes, maxUploadBytes, maxUploadFileBytes } = loadConfig({}).limits;
const BOUNDARY = 'bench-limits-boundary';
/** Files of an upload: under MAX_UPLOAD_FILE_BYTES, so that the per-request limit is the one hit. */
const FILE_BYTES = Math.min(8 * 2 ** 20, maxUploadFileBytes / 2);
/** Files of an upload just under MAX_UPLOAD_BYTES. */
const ALLOWED_FILES = Math.floor((maxUploadBytes - 2 ** 20) / FILE_BYTES);
const JSON_START = '{"query":"{ __typename }","variables":{"pad":"';
const QUERY_FORM = JSON.stringify({ query: '{ __typename }' });

const MB = 2 ** 20;
const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Case = { name: string; limit: number; request: (origin: string) => Promise<OversizedRequest> };

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const WHO = [
  { who: 'anonymous', headers: {} },
  { who: 'admin', headers: bearer(ADMIN) },
];

function cases(): Case[] {
  const post = (
    name: string,
    path: string,
    headers: Record<string, string>,
    body: () => Iterable<Uint8Array>,
    limit = maxBodyBytes,
  ): Case => ({
    name,
    limit,
    request: async () => ({ method: 'POST', path, headers, body: body(), totalBytes: 10 * limit }),
  });
  const all: Case[] = [];
  for (const { who, headers } of WHO) {
    for (const type of ['application/json', 'application/graphql+json']) {
      all.push(
        post(`/graphql ${type}, ${who}`, '/graphql', { ...headers, 'content-type': type }, () =>
          withFiller(JSON_START),
        ),
      );
    }
    all.push(
      post(
        `/graphql form, ${who}`,
        '/graphql',
        { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
        () => withFiller('query=%7B__typename%7D&pad='),
      ),
      post(
        `/graphql text/plain, ${who}`,
        '/graphql',
        { ...headers, 'content-type': 'text/plain' },
        () => withFiller('{ __typename }'),
      ),
      post(
        `/graphql/stream distinct, ${who}`,
        '/graphql/stream',
        { ...headers, 'content-type': 'application/json', accept: 'text/event-stream' },
        () => withFiller(JSON_START),
      ),
      {
        name: `/graphql/stream PUT reservation, ${who}`,
        limit: maxBodyBytes,
        request: async () => ({
          method: 'PUT',
          path: '/graphql/stream',
          headers,
          body: withFiller(''),
          totalBytes: 10 * maxBodyBytes,
        }),
      },
      {
        name: `/graphql/stream single-connection operation, ${who}`,
        limit: maxBodyBytes,
        request: async (origin) => {
          const reserved = await fetch(`${origin}/graphql/stream`, {
            method: 'PUT',
            headers: bearer(ADMIN),
          });
          return {
            method: 'POST',
            path: '/graphql/stream',
            headers: {
              ...headers,
              'content-type': 'application/json',
              'x-graphql-event-stream-token': await reserved.text(),
            },
            body: withFiller(`{"extensions":{"operationId":"1"},${JSON_START.slice(1)}`),
            totalBytes: 10 * maxBodyBytes,
          };
        },
      },
      {
        name: `GET /graphql with a body, ${who}`,
        limit: maxBodyBytes,
        request: async () => ({
          method: 'GET',
          path: '/graphql?query=%7B__typename%7D',
          headers: { ...headers, 'x-graphql-yoga-csrf': '1' },
          body: withFiller(''),
          totalBytes: 10 * maxBodyBytes,
        }),
      },
    );
  }
  for (const { who, headers } of [
    { who: 'anonymous', headers: {} },
    { who: 'viewer', headers: bearer(VIEWER) },
  ]) {
    all.push(upload(`/graphql upload, ${who}`, headers));
  }
  return all;
}

const upload = (name: string, headers: Record<string, string>): Case => ({
  name,
  limit: maxUploadBytes,
  request: async () => ({
    method: 'POST',
    path: '/graphql',
    headers: { ...headers, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
    body: multipartFiles(BOUNDARY, QUERY_FORM, '{}', FILE_BYTES),
    totalBytes: 10 * maxUploadBytes,
  }),
});

/** VmRSS and VmHWM of a process, in bytes. */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(status.match(new RegExp(`${field}:\\s+(\\d+)`))?.[1]) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

const bytesRead = (pid: number) =>
  Number(readFileSync(`/proc/${pid}/io`, 'utf8').match(/rchar:\s+(\d+)/)?.[1]);

/** Resets VmHWM to the current RSS (Linux ≥ 4.0). */
const resetPeak = (pid: number) => writeFileSync(`/proc/${pid}/clear_refs`, '5');

async function send(origin: string, test: Case, onAnswer?: () => void) {
  const answer = await sendOversized(origin, { ...(await test.request(origin)), onAnswer });
  const error = answer.body.startsWith('{') ? JSON.parse(answer.body).errors?.[0] : undefined;
  return { ...answer, code: error?.extensions?.code ?? '' };
}

/** A full collection in the server (collect-on-signal.mjs), then a pause for it to settle. */
async function collect(pid: number) {
  process.kill(pid, 'SIGUSR2');
  await sleep(1000);
}

/**
 * Runs `work` while sampling the server's memory; prints its RSS before (collected), at its peak
 * and after (collected again: what stays); returns the peak's growth.
 */
async function measured(label: string, pid: number, work: () => Promise<unknown>) {
  await collect(pid);
  const before = memory(pid);
  resetPeak(pid);
  let sampled = before.rss;
  const sampler = setInterval(() => {
    sampled = Math.max(sampled, memory(pid).rss);
  }, 20);
  const started = performance.now();
  await work();
  const ms = performance.now() - started;
  clearInterval(sampler);
  const peak = Math.max(sampled, memory(pid).peak);
  await sleep(2000);
  await collect(pid);
  const after = memory(pid);
  const grown = (bytes: number) => `${bytes >= before.rss ? '+' : ''}${mb(bytes - before.rss)}`;
  console.log(
    `${label}: ${Math.round(ms)} ms; server RSS before ${mb(before.rss)}, peak ${mb(peak)} (${grown(peak)}), after ${mb(after.rss)} (${grown(after.rss)})`,
  );
  return peak - before.rss;
}

type Server = {
  origin: string;
  pid: number;
  /** Body bytes the server took of the request from `port` when it refused it (its log). */
  taken(port: number): number | undefined;
  stop(): Promise<unknown>;
};

/**
 * A fresh server (with collect-on-signal.mjs preloaded), warmed up with queries and one round of
 * the small floods.
 */
async function startServer(): Promise<Server> {
  const child = startChild({
    DATA_DIR: mkdtempSync(path.join(tmpdir(), 'bench-limits-')),
    DEMO_DATA: 'false',
    WORKER: 'false',
    AUTH_TOKENS: `${ADMIN}:admin,${VIEWER}:viewer`,
    NODE_OPTIONS: `--expose-gc --import ${fileURLToPath(new URL('collect-on-signal.mjs', import.meta.url))}`,
  });
  const url = await child.ready;
  const server = {
    origin: new URL(url).origin,
    pid: child.child.pid ?? 0,
    taken: (port: number) =>
      child
        .output()
        .split('\n')
        .filter((line) => line.includes('request body over its limit'))
        .map((line) => JSON.parse(line))
        .find((entry) => entry.remotePort === port)?.received,
    stop: () => stopChild(child.child, child.exited),
  };
  for (let i = 0; i < 20; i++) {
    await fetch(`${url}?query=%7B__typename%7D`, { headers: bearer(ADMIN) });
  }
  await Promise.all(cases().map((test) => send(server.origin, test)));
  return server;
}

async function withServer<T>(work: (server: Server) => Promise<T>): Promise<T> {
  const server = await startServer();
  try {
    return await work(server);
  } finally {
    await server.stop();
  }
}

async function main() {
  console.log(
    `limits: MAX_BODY_BYTES ${mb(maxBodyBytes)}, MAX_UPLOAD_BYTES ${mb(maxUploadBytes)}; bodies of 10× those, chunked\n`,
  );
  const floods = cases();
  const adminUpload = upload('/graphql upload, admin', bearer(ADMIN));

  const growth = await withServer(async ({ origin, pid, taken }) => {
    const growth = await measured(
      `all ${floods.length} below in parallel (no admin upload)`,
      pid,
      () => Promise.all(floods.map((test) => send(origin, test))),
    );
    console.log(
      '\neach alone: status, code; body bytes the server took before refusing (its log; none: refused or answered unread); what it read (rchar) until the client saw the answer, and in all, with what it dropped while closing; what the client pushed',
    );
    for (const test of [...floods, adminUpload]) {
      const start = bytesRead(pid);
      let atAnswer = 0;
      const answer = await send(origin, test, () => {
        atAnswer = bytesRead(pid) - start;
      });
      const inAll = bytesRead(pid) - start;
      // pino writes asynchronously: give a refusal's line a moment to arrive
      let took = taken(answer.localPort);
      for (let i = 0; i < 20 && took === undefined && answer.status === 413; i++) {
        await sleep(50);
        took = taken(answer.localPort);
      }
      const verdict =
        took === undefined
          ? 'none'
          : `${mb(took)} ${took <= test.limit + 64 * 1024 ? 'within' : 'OVER'}`;
      console.log(
        `  ${test.name.padEnd(55)} ${answer.status} ${answer.code.padEnd(17)} ${verdict.padStart(17)} ${mb(test.limit)}; read ${mb(atAnswer)}, in all ${mb(inAll)}; pushed ${mb(answer.sentBytes)}`,
      );
    }
    return growth;
  });
  console.log();
  await withServer(({ pid, origin }) =>
    measured('the admin upload of 10× MAX_UPLOAD_BYTES alone', pid, () =>
      send(origin, adminUpload),
    ),
  );
  await withServer(({ pid, origin }) =>
    measured(
      `an admin upload the limits allow (${ALLOWED_FILES} files of ${mb(FILE_BYTES)})`,
      pid,
      async () => {
        const answer = await sendOversized(origin, {
          method: 'POST',
          path: '/graphql',
          headers: {
            ...bearer(ADMIN),
            'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
          },
          body: multipartFiles(BOUNDARY, QUERY_FORM, '{}', FILE_BYTES, ALLOWED_FILES),
          totalBytes: maxUploadBytes,
        });
        console.log(`  answer: ${answer.status} ${answer.body.slice(0, 80)}`);
      },
    ),
  );
  console.log(
    `\ntarget: RSS growth of the parallel floods < 64 MB: ${growth < 64 * MB ? 'met' : 'NOT met'} (+${mb(growth)})`,
  );
}

await main();
