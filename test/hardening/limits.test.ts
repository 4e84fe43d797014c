import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { ADMIN_TOKEN, codes, createTestApp, type TestApp } from '../support/app.ts';

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(() => app.close());

const limits = loadConfig({}).limits;
const post = (body: string) =>
  app.yoga.fetch('http://test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body,
  });

describe('operation limits', () => {
  test('depth', async () => {
    const deep = `{ trainingStatus { activeJob { modelVersion { job { modelVersion { job { modelVersion { job { modelVersion { job { modelVersion { job { id } } } } } } } } } } } } }`;
    const result = await app.gql(deep);
    expect(codes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors?.[0]?.message).toContain(`limit of ${limits.maxDepth}`);
  });

  test('aliases', async () => {
    const aliases = Array.from(
      { length: limits.maxAliases + 1 },
      (_, i) => `a${i}: trainingStatus { totalJobs }`,
    ).join(' ');
    const result = await app.gql(`{ ${aliases} }`);
    expect(codes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors?.[0]?.extensions?.limit).toBe('maxAliases');
  });

  test('tokens', async () => {
    const result = await app.gql(`{ ${'__typename '.repeat(limits.maxTokens)} }`);
    expect(codes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors?.[0]?.message).toContain(`${limits.maxTokens} tokens`);
  });

  test('cost counts page sizes, literal or from variables', async () => {
    const expensive = `query($n: Int = 100) { trainingJobs(first: $n) { edges { node { history(last: 1000) { step loss } } } } }`;
    const result = await app.gql(expensive);
    expect(codes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors?.[0]?.extensions?.limit).toBe('maxCost');
    const cheap = await app.gql(
      `{ trainingJobs(first: 20) { edges { node { id history(last: 50) { step loss } } } } }`,
    );
    expect(cheap.errors).toBeUndefined();
  });

  test('page size cap', async () => {
    const result = await app.gql(
      `{ modelVersions(first: ${limits.maxPageSize + 1}) { edges { cursor } } }`,
    );
    expect(codes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors?.[0]?.extensions?.field).toBe('first');
  });
});

// Request sizes are limited by node:http, before yoga: body-limits.test.ts tests them over HTTP.
describe('request bodies', () => {
  test('invalid JSON is a coded 400', async () => {
    const response = await post('{"query": ');
    expect(response.status).toBe(400);
    expect((await response.json()).errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });
});

describe('CSRF prevention', () => {
  test('a simple cross-site request (no Authorization, no preflight header) is refused', async () => {
    const form = new FormData();
    form.set('operations', JSON.stringify({ query: '{ trainingStatus { totalJobs } }' }));
    form.set('map', '{}');
    const response = await app.yoga.fetch('http://test/graphql', { method: 'POST', body: form });
    expect(response.status).toBe(403);
    expect((await response.json()).errors[0].extensions.code).toBe('FORBIDDEN');
  });

  test('GET with Authorization or apollo-require-preflight passes', async () => {
    const url = `http://test/graphql?query=${encodeURIComponent('{ trainingStatus { totalJobs } }')}`;
    const withAuth = await app.yoga.fetch(url, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect((await withAuth.json()).data.trainingStatus.totalJobs).toBe(0);
    const preflighted = await app.yoga.fetch(url, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect((await preflighted.json()).errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });
});

describe('introspection', () => {
  test('on by default, off in production unless INTROSPECTION=true', async () => {
    expect(loadConfig({}).introspection).toBe(true);
    expect(loadConfig({ NODE_ENV: 'production' }).introspection).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', INTROSPECTION: 'true' }).introspection).toBe(true);
    const on = await app.gql('{ __schema { queryType { name } } }');
    expect(on.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    const prod = await createTestApp({ settings: loadConfig({ NODE_ENV: 'production' }) });
    try {
      const off = await prod.gql('{ __schema { queryType { name } } }');
      expect(off.data ?? null).toBeNull();
      expect(new Set(codes(off))).toEqual(new Set(['BAD_USER_INPUT']));
    } finally {
      await prod.close();
    }
  });
});
