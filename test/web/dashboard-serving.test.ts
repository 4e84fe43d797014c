import { createYoga } from 'graphql-yoga';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { useDashboard } from '../../src/http/dashboard.ts';
import { schema } from '../../src/schema/index.ts';
import { createTestApp, type TestApp } from '../support/app.ts';

// The built dashboard at / (global setup builds it when stale), beside the API's own paths.
describe('serving the dashboard', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(() => app.close());

  const get = (path: string, headers: Record<string, string> = {}, method = 'GET') =>
    app.yoga.fetch(`http://test${path}`, { method, headers });

  test('answers every app route with index.html, revalidated and with security headers', async () => {
    for (const path of [
      '/',
      '/jobs',
      '/jobs/',
      '/jobs/new',
      '/jobs/VHJhaW5pbmdKb2I6MQ==',
      '/models',
      '/dataset',
      '/ocr',
    ]) {
      const response = await get(path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('cache-control')).toBe('no-cache');
      expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await response.text()).toContain('<div id="root">');
    }
  });

  test('serves hashed assets for good, gzip-compressed when accepted, and 304 on a matching ETag', async () => {
    const html = await (await get('/')).text();
    const script = html.match(/src="(\/assets\/[^"]+\.js)"/)?.[1];
    expect(script).toBeDefined();
    const plain = await get(script!);
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(plain.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const body = await plain.arrayBuffer();

    const gzipped = await get(script!, { 'accept-encoding': 'gzip, deflate, br' });
    expect(gzipped.headers.get('content-encoding')).toBe('gzip');
    expect(Number(gzipped.headers.get('content-length'))).toBeLessThan(body.byteLength / 2);

    const etag = plain.headers.get('etag');
    expect(etag).toMatch(/^".+"$/);
    const again = await get(script!, { 'if-none-match': etag! });
    expect(again.status).toBe(304);

    const head = await get('/', {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  test('serves nothing outside the build', async () => {
    for (const path of [
      '/assets/../package.json',
      '/%2e%2e/package.json',
      '/assets/..%2f..%2fpackage.json',
      '/..%2fsrc%2fapp.ts',
      '/jobs/1/2',
      '/web/dist/index.html',
    ]) {
      const response = await get(path);
      expect(response.status, path).toBe(404);
    }
  });

  test('leaves GraphiQL, the API, health and readiness to yoga', async () => {
    const graphiql = await get('/graphql', { accept: 'text/html' });
    expect(graphiql.status).toBe(200);
    expect(await graphiql.text()).toMatch(/graphiql/i);
    expect((await get('/health')).status).toBe(200);
    expect((await get('/ready')).status).toBe(200);
    const api = await app.yoga.fetch('http://test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ viewer { role } }' }),
    });
    expect((await api.json()).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    // a POST to an app route is no page request
    expect((await get('/jobs', {}, 'POST')).status).toBe(404);
  });

  test('says how to build it when the build is missing', async () => {
    const yoga = createYoga({
      schema,
      plugins: [useDashboard({ logger: pino({ level: 'silent' }), dir: '/nonexistent/dist' })],
    });
    const response = await yoga.fetch('http://test/jobs');
    expect(response.status).toBe(503);
    expect(await response.text()).toContain('npm run build:web');
    expect((await yoga.fetch('http://test/assets/x.js')).status).toBe(404);
  });
});
