import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ADMIN_TOKEN, createTestApp, type TestApp } from '../support/app.ts';

let app: TestApp;
let server: ReturnType<typeof createServer>;
let port: number;
beforeAll(async () => {
  app = await createTestApp();
  server = createServer(app.yoga);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await app.close();
});

/** Starts a multipart upload announcing `size` bytes, sends a little, then drops the connection. */
function abortedUpload(size: number): Promise<void> {
  return new Promise((resolve) => {
    const boundary = 'leakboundary';
    const head = [
      `--${boundary}`,
      'Content-Disposition: form-data; name="operations"',
      '',
      JSON.stringify({
        query: 'mutation($file: File!) { importDocuments(file: $file) { added } }',
        variables: { file: null },
      }),
      `--${boundary}`,
      'Content-Disposition: form-data; name="map"',
      '',
      '{"0":["variables.file"]}',
      `--${boundary}`,
      'Content-Disposition: form-data; name="0"; filename="d.jsonl"',
      'Content-Type: application/octet-stream',
      '',
      'x'.repeat(4096),
    ].join('\r\n');
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        `POST /graphql HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${size}\r\n\r\n${head}`,
        () => socket.destroy(),
      );
    });
    socket.on('close', () => resolve());
    socket.on('error', () => resolve());
  });
}

// A real collection before each reading, so the comparison is of live memory, not of garbage.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

test('thousands of aborted uploads leave no listeners, connections or memory behind', {
  timeout: 180_000,
}, async () => {
  const listeners = app.events.listenerCount();
  await abortedUpload(1_000_000);
  gc();
  const before = process.memoryUsage();
  const cycles = 2000;
  for (let i = 0; i < cycles; i += 50) {
    await Promise.all(Array.from({ length: 50 }, () => abortedUpload(10_000_000)));
  }
  // the server sees the last closes a moment after the clients: wait for it, within bounds
  let connections = -1;
  for (let tries = 0; tries < 100 && connections !== 0; tries++) {
    connections = await new Promise<number>((resolve) =>
      server.getConnections((_e, n) => resolve(n)),
    );
    if (connections !== 0) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  gc();
  const after = process.memoryUsage();
  console.log(
    `aborted uploads: ${cycles}; heap before ${mb(before.heapUsed)} MB, after ${mb(after.heapUsed)} MB; RSS before ${mb(before.rss)} MB, after ${mb(after.rss)} MB; open connections ${connections}; bus listeners ${listeners} -> ${app.events.listenerCount()}`,
  );
  expect(app.events.listenerCount()).toBe(listeners);
  expect(connections).toBe(0);
  // 2000 uploads of ~4 KB each: kept, they would be 8 MB plus their request state.
  expect(after.heapUsed - before.heapUsed).toBeLessThan(16 * 1024 * 1024);
  const health = await fetch(`http://127.0.0.1:${port}/health`);
  expect(health.status).toBe(200);
});
