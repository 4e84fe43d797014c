import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../src/config.ts';
import { startServer } from '../src/server.ts';
import { sampleOf } from './support/metrics.ts';
import { startChild, stopChild } from './support/processes.ts';

const TOKEN = 'server-test-token-0123456789';

/** A graphql-ws connection to the server at `url`, initialised and acknowledged. */
async function acknowledgedWebSocket(url: string): Promise<WebSocket> {
  const socket = new WebSocket(url.replace('http', 'ws'), 'graphql-transport-ws');
  await once(socket, 'open');
  const init = { type: 'connection_init', payload: { authorization: `Bearer ${TOKEN}` } };
  socket.send(JSON.stringify(init));
  await once(socket, 'message');
  return socket;
}

function configFor(dataDir: string, env: Record<string, string> = {}) {
  return loadConfig({
    ...env,
    PORT: '0',
    DATA_DIR: dataDir,
    AUTH_TOKENS: `${TOKEN}:admin`,
    ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
  });
}

describe('server', () => {
  test('serves over HTTP and finishes an in-flight request when stopped, closing WebSockets', {
    timeout: 120_000,
  }, async () => {
    const server = await startServer(
      configFor(mkdtempSync(path.join(tmpdir(), 'srv-'))),
      pino({ level: 'silent' }),
    );
    expect((await fetch(server.url.replace('/graphql', '/ready'))).status).toBe(200);
    // the server's metrics include the process's and the runner's
    const metrics = await fetch(server.url.replace('/graphql', '/metrics'), {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const text = await metrics.text();
    expect(sampleOf(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(sampleOf(text, 'training_runner_slots', { state: 'free' })).toBeDefined();

    // A graphql-ws connection, closed as going away (1001) when the server stops.
    const socket = await acknowledgedWebSocket(server.url);
    const socketClosed = once(socket, 'close');

    // A request whose body is still arriving when the shutdown begins.
    const body = JSON.stringify({ query: '{ trainingStatus { totalJobs } }' });
    const { hostname, port } = new URL(server.url);
    const inFlight = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        {
          hostname,
          port,
          path: '/graphql',
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${TOKEN}`,
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk) => {
            text += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, 10));
      setTimeout(() => req.end(body.slice(10)), 300);
    });
    await new Promise((r) => setTimeout(r, 100));
    const stopped = server.stop();
    const answer = await inFlight;
    await stopped;
    expect((await socketClosed)[0]).toBe(1001);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text).data.trainingStatus.totalJobs).toBeTypeOf('number');
    await expect(fetch(server.url)).rejects.toThrow();
  });

  test('cuts a WebSocket whose client never answers the close, within the shutdown timeout', {
    timeout: 120_000,
  }, async () => {
    const server = await startServer(
      configFor(mkdtempSync(path.join(tmpdir(), 'srv-')), { SHUTDOWN_TIMEOUT_MS: '500' }),
      pino({ level: 'silent' }),
    );
    const socket = await acknowledgedWebSocket(server.url);
    const socketClosed = once(socket, 'close');
    // The client reads nothing more: the server's close frame stays unanswered.
    (socket as unknown as { _socket: Socket })._socket.pause();

    // ws itself would wait 30 s for the answer.
    const stopped = await Promise.race([
      server.stop().then(() => 'stopped'),
      new Promise((resolve) => setTimeout(resolve, 20_000, 'still stopping after 20 s')),
    ]);
    expect(stopped).toBe('stopped');
    (socket as unknown as { _socket: Socket })._socket.resume();
    // Its close frame was sent before the cut.
    expect((await socketClosed)[0]).toBe(1001);
  });
});

describe('main', () => {
  test('prints a generated admin token once, keeps data across restarts, exits cleanly on SIGTERM', {
    timeout: 240_000,
  }, async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'main-'));
    const env = { DATA_DIR: dataDir, DATABASE_URL: '' };

    const first = startChild(env);
    const url = await first.ready;
    const token = first.output().match(/Bearer ([\w-]{40,})/)?.[1];
    expect(token).toBeDefined();
    // A job needs training data: the demo corpus loads in the background after startup.
    for (let waited = 0; !first.output().includes('demo data: loaded'); waited += 50) {
      if (waited > 60_000) throw new Error('the demo corpus was not loaded within 60 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    const created = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        query:
          'mutation { createTrainingJob(input: { name: "kept", bundeslaender: ["SN"] }) { id } }',
      }),
    });
    expect(created.status).toBe(200);
    expect(await stopChild(first.child, first.exited)).toBe(0);
    expect(first.output()).toContain('"msg":"stopped"');

    const second = startChild(env);
    const url2 = await second.ready;
    expect(second.output()).not.toContain(token);
    const list = await fetch(url2, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ trainingJobs { edges { node { name } } } }' }),
    });
    expect(await list.json()).toEqual({
      data: { trainingJobs: { edges: [{ node: { name: 'kept' } }] } },
    });
    expect(await stopChild(second.child, second.exited)).toBe(0);
  });

  test('a start that fails ends the process with code 1, the database let go', {
    timeout: 120_000,
  }, async () => {
    const taken = createServer();
    taken.listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const { port } = taken.address() as AddressInfo;
    const dataDir = mkdtempSync(path.join(tmpdir(), 'main-'));
    try {
      const failed = startChild({ DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1' });
      await expect(failed.ready).rejects.toThrow('EADDRINUSE');
      expect(await failed.exited).toBe(1);
      // A short token is refused before the data folder is touched.
      const refused = startChild({ DATA_DIR: dataDir, AUTH_TOKENS: 'short:admin' });
      await expect(refused.ready).rejects.toThrow('at least 16 characters');
      expect(await refused.exited).toBe(1);
    } finally {
      taken.close();
    }
  });
});
