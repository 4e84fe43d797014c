import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { File as ServerFile } from '@whatwg-node/fetch';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DigestMemo, sha256 } from '../src/auth/digests.ts';
import { loadOrCreateAdminToken, parseAuthTokens, TokenStore } from '../src/auth/tokens.ts';
import { responseCacheKey } from '../src/plugins/response-cache.ts';
import { codes, createTestApp, type TestApp, VIEWER_TOKEN } from './support/app.ts';

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp({ trainingData: true });
});
afterAll(() => app.close());

const create = `mutation { createTrainingJob(input: { name: "a", bundeslaender: ["HH"] }) { id } }`;

describe('roles', () => {
  test('no token or an unknown token: UNAUTHENTICATED', async () => {
    expect(codes(await app.gql('{ trainingStatus { totalJobs } }', {}, { token: null }))).toEqual([
      'UNAUTHENTICATED',
    ]);
    expect(codes(await app.gql(create, {}, { token: 'wrong-token-wrong-token' }))).toEqual([
      'UNAUTHENTICATED',
    ]);
  });

  test('viewer reads but may not change anything: FORBIDDEN', async () => {
    const read = await app.gql(
      '{ trainingStatus { totalJobs } trainingJobs { edges { cursor } } }',
      {},
      { token: VIEWER_TOKEN },
    );
    expect(read.errors).toBeUndefined();
    for (const mutation of [
      create,
      'mutation { pauseTrainingJob(id: "x") { id } }',
      'mutation { deleteTrainingJob(id: "x") }',
      'mutation { activateModelVersion(id: "x") { id } }',
      'mutation { deleteModelVersion(id: "x") }',
    ]) {
      expect(codes(await app.gql(mutation, {}, { token: VIEWER_TOKEN }))).toEqual(['FORBIDDEN']);
    }
  });

  test('health and readiness need no token', async () => {
    for (const endpoint of ['/health', '/ready']) {
      const response = await app.yoga.fetch(`http://test${endpoint}`);
      expect(response.status).toBe(200);
    }
  });

  test('GraphiQL is served from the package, with no CDN', async () => {
    const response = await app.yoga.fetch('http://test/graphql', {
      headers: { accept: 'text/html' },
    });
    const html = await response.text();
    expect(response.status).toBe(200);
    expect(html).toContain('Training jobs API');
    expect(html).not.toMatch(/unpkg\.com|jsdelivr/);
  });
});

describe('AUTH_DISABLED', () => {
  test('treats every request as admin', async () => {
    const open = await createTestApp({ trainingData: true, authDisabled: true });
    try {
      expect((await open.gql(create, {}, { token: null })).errors).toBeUndefined();
    } finally {
      await open.close();
    }
  });
});

describe('tokens', () => {
  test('AUTH_TOKENS parses token:role pairs and rejects bad ones', () => {
    expect(parseAuthTokens('aaaaaaaaaaaaaaaa:admin, bbbbbbbbbbbbbbbb:viewer')).toEqual([
      { token: 'aaaaaaaaaaaaaaaa', role: 'admin' },
      { token: 'bbbbbbbbbbbbbbbb', role: 'viewer' },
    ]);
    expect(() => parseAuthTokens('aaaaaaaaaaaaaaaa:root')).toThrow(/admin or token:viewer/);
    expect(() => parseAuthTokens('short:admin')).toThrow(/16 characters/);
  });

  test('the store knows each token, and only the exact token', () => {
    const store = new TokenStore(parseAuthTokens('aaaaaaaaaaaaaaaa:admin,bbbbbbbbbbbbbbbb:viewer'));
    expect(store.roleOf('aaaaaaaaaaaaaaaa')).toBe('admin');
    expect(store.roleOf('bbbbbbbbbbbbbbbb')).toBe('viewer');
    expect(store.roleOf('aaaaaaaaaaaaaaa')).toBeNull();
    expect(store.roleOf('')).toBeNull();
  });

  test('a token seen before is judged again by the store: wrong stays wrong, a new store decides anew', () => {
    const before = new TokenStore(
      parseAuthTokens('aaaaaaaaaaaaaaaa:admin,bbbbbbbbbbbbbbbb:viewer'),
    );
    for (let i = 0; i < 3; i += 1) {
      expect(before.roleOf('aaaaaaaaaaaaaaaa')).toBe('admin');
      expect(before.roleOf('aaaaaaaaaaaaaaab')).toBeNull();
    }
    // AUTH_TOKENS changed: the old admin token revoked, the viewer's now admin
    const after = new TokenStore(parseAuthTokens('bbbbbbbbbbbbbbbb:admin'));
    expect(after.roleOf('aaaaaaaaaaaaaaaa')).toBeNull();
    expect(after.roleOf('bbbbbbbbbbbbbbbb')).toBe('admin');
    expect(before.roleOf('bbbbbbbbbbbbbbbb')).toBe('viewer');
  });

  test('a crowd of unknown tokens neither grows the memo past its bound nor changes a verdict', () => {
    const store = new TokenStore(parseAuthTokens('aaaaaaaaaaaaaaaa:admin'));
    expect(store.roleOf('aaaaaaaaaaaaaaaa')).toBe('admin');
    for (let i = 0; i < 3000; i += 1) expect(store.roleOf(`unknown-token-${i}`)).toBeNull();
    expect(store.roleOf('aaaaaaaaaaaaaaaa')).toBe('admin');
  });

  test('the digest memo is bounded and evicts the least recently used', () => {
    const computed: string[] = [];
    const memo = new DigestMemo((value) => {
      computed.push(value);
      return sha256(value);
    }, 2);
    expect(memo.of('a').equals(sha256('a'))).toBe(true);
    memo.of('b');
    memo.of('a');
    memo.of('c'); // evicts b, used longer ago than a
    expect(memo.remembered).toBe(2);
    memo.of('a');
    memo.of('b');
    expect(computed).toEqual(['a', 'b', 'c', 'b']);
  });

  test('the generated admin token is created once, private, and read back later', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'auth-'));
    const first = loadOrCreateAdminToken(dir);
    expect(first.created).toBe(true);
    expect(first.token.length).toBeGreaterThanOrEqual(40);
    expect(statSync(first.file).mode & 0o777).toBe(0o600);
    const second = loadOrCreateAdminToken(dir);
    expect(second).toEqual({ ...first, created: false });
    expect(readFileSync(first.file, 'utf8').trim()).toBe(first.token);
  });
});

describe('response cache', () => {
  test('never serves a cached result to a caller without the role', async () => {
    const query = '{ trainingStatus { totalJobs } }';
    expect((await app.gql(query)).errors).toBeUndefined();
    expect((await app.gql(query, {}, { token: VIEWER_TOKEN })).errors).toBeUndefined();
    expect(codes(await app.gql(query, {}, { token: null }))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await app.gql(query, {}, { token: 'not-a-known-token-at-all' }))).toEqual([
      'UNAUTHENTICATED',
    ]);
  });
});

test('the response-cache key leaves out the bytes of uploaded files', () => {
  // the File of the server's multipart parser, whose JSON holds every byte
  const upload = (bytes: number) => new ServerFile([Buffer.alloc(bytes, 1)], 'scan.png');
  const key = (variables: unknown) => responseCacheKey([0, 'ADMIN', null, 'mutation', variables]);
  expect(key({ images: [upload(1)] })).toBe(key({ images: [upload(10_000_000)] }));
  expect(key({ jobId: 'a' })).not.toBe(key({ jobId: 'b' }));
});
