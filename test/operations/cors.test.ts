import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { ADMIN_TOKEN, createTestApp, type TestApp, testSettings } from '../support/app.ts';
import { type ServedApp, serveApp } from '../support/http.ts';

const ALLOWED = 'https://dashboard.example.org';
const OTHER_ALLOWED = 'http://localhost:5173';
const FOREIGN = 'https://evil.example.net';
const QUERY = JSON.stringify({ query: '{ trainingStatus { totalJobs } }' });

/** A preflight as a browser sends it before a cross-origin POST with a token. */
const preflight = (url: string, origin: string) =>
  fetch(url, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    },
  });

const post = (url: string, origin: string) =>
  fetch(url, {
    method: 'POST',
    headers: {
      origin,
      'content-type': 'application/json',
      authorization: `Bearer ${ADMIN_TOKEN}`,
    },
    body: QUERY,
  });

describe.each(['/graphql', '/graphql/stream'])('CORS on %s', (path) => {
  describe('with CORS_ORIGINS set', () => {
    let app: TestApp;
    let served: ServedApp;
    let url: string;
    beforeAll(async () => {
      app = await createTestApp({
        settings: testSettings({ CORS_ORIGINS: `${ALLOWED}, ${OTHER_ALLOWED}` }),
      });
      served = await serveApp(app);
      url = `${served.origin}${path}`;
    });
    afterAll(async () => {
      await served.close();
      await app.close();
    });

    test('a preflight from an allowed origin is answered with that origin', async () => {
      for (const origin of [ALLOWED, OTHER_ALLOWED]) {
        const response = await preflight(url, origin);
        expect(response.status).toBe(204);
        expect(response.headers.get('access-control-allow-origin')).toBe(origin);
        expect(response.headers.get('access-control-allow-methods')).toContain('POST');
        expect(response.headers.get('access-control-allow-headers')).toMatch(/authorization/i);
        expect(response.headers.get('access-control-allow-credentials')).toBeNull();
      }
    });

    test('a request from an allowed origin gets its origin back and can read the request id', async () => {
      const response = await post(url, ALLOWED);
      expect(response.headers.get('access-control-allow-origin')).toBe(ALLOWED);
      expect(response.headers.get('access-control-expose-headers')).toBe('x-request-id');
      await response.text();
    });

    test('a foreign origin gets no CORS header, preflight or not', async () => {
      const pre = await preflight(url, FOREIGN);
      expect(pre.headers.get('access-control-allow-origin')).toBeNull();
      expect(pre.headers.get('access-control-allow-methods')).toBeNull();
      const response = await post(url, FOREIGN);
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      await response.text();
    });
  });

  describe('without CORS_ORIGINS (same origin only)', () => {
    let app: TestApp;
    let served: ServedApp;
    beforeAll(async () => {
      app = await createTestApp();
      served = await serveApp(app);
    });
    afterAll(async () => {
      await served.close();
      await app.close();
    });

    test('no origin is echoed, foreign or the server’s own', async () => {
      const url = `${served.origin}${path}`;
      for (const origin of [FOREIGN, served.origin]) {
        expect(
          (await preflight(url, origin)).headers.get('access-control-allow-origin'),
        ).toBeNull();
        const response = await post(url, origin);
        expect(response.headers.get('access-control-allow-origin')).toBeNull();
        await response.text();
      }
    });
  });
});

test('CORS_ORIGINS takes origins only', () => {
  expect(loadConfig({ CORS_ORIGINS: `${ALLOWED},${OTHER_ALLOWED}` }).corsOrigins).toEqual([
    ALLOWED,
    OTHER_ALLOWED,
  ]);
  expect(loadConfig({}).corsOrigins).toEqual([]);
  expect(() => loadConfig({ CORS_ORIGINS: 'https://a.example.org/path' })).toThrow(/not an origin/);
  expect(() => loadConfig({ CORS_ORIGINS: '*' })).toThrow(/not an origin/);
});
