import { afterEach, describe, expect, test } from 'vitest';
import {
  ADMIN_TOKEN,
  codes,
  createTestApp,
  ok,
  type TestApp,
  VIEWER_TOKEN,
} from '../support/app.ts';

const QUERY = '{ viewer { role } }';

describe('viewer', () => {
  let app: TestApp | undefined;
  afterEach(() => app?.close());

  test('tells each token its role, and refuses an unknown one', async () => {
    app = await createTestApp();
    expect(ok(await app.gql(QUERY, {}, { token: ADMIN_TOKEN }))).toEqual({
      viewer: { role: 'ADMIN' },
    });
    expect(ok(await app.gql(QUERY, {}, { token: VIEWER_TOKEN }))).toEqual({
      viewer: { role: 'VIEWER' },
    });
    expect(codes(await app.gql(QUERY, {}, { token: 'not-a-known-token-000000' }))).toEqual([
      'UNAUTHENTICATED',
    ]);
    expect(codes(await app.gql(QUERY, {}, { token: null }))).toEqual(['UNAUTHENTICATED']);
  });

  test('is ADMIN without a token when auth is disabled', async () => {
    app = await createTestApp({ authDisabled: true });
    expect(ok(await app.gql(QUERY, {}, { token: null }))).toEqual({ viewer: { role: 'ADMIN' } });
  });
});
