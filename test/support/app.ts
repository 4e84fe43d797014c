import { pino } from 'pino';
import { type App, type AppOptions, createApp } from '../../src/app.ts';
import { TokenStore } from '../../src/auth/tokens.ts';
import { createTestDatabase, type TestDatabase } from './databases.ts';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const VIEWER_TOKEN = 'test-viewer-token-0123456789';

export type TestApp = App & {
  database: TestDatabase;
  /** SQL statements seen since the last `resetQueries()`. */
  queries: string[];
  /** POSTs a GraphQL operation; `token: null` sends no Authorization header. */
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    options?: { token?: string | null },
  ): Promise<GqlResult<T>>;
  close(): Promise<void>;
};

export type GqlError = { message: string; path?: string[]; extensions?: Record<string, unknown> };
export type GqlResult<T> = { data?: T | null; errors?: GqlError[]; status: number };

type TestAppOptions = { authDisabled?: boolean } & Pick<
  AppOptions,
  'sseKeepAliveMs' | 'progressMaxEventsPerSecond'
>;

/** The real yoga app on a fresh database, with an admin and a viewer token. */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const queries: string[] = [];
  const database = await createTestDatabase({ onQuery: (sql) => queries.push(sql) });
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const tokens = options.authDisabled
    ? 'disabled'
    : new TokenStore([
        { token: ADMIN_TOKEN, role: 'admin' },
        { token: VIEWER_TOKEN, role: 'viewer' },
      ]);
  const app = createApp({
    database,
    logger,
    tokens,
    sseKeepAliveMs: options.sseKeepAliveMs,
    progressMaxEventsPerSecond: options.progressMaxEventsPerSecond,
  });
  return {
    ...app,
    database,
    queries,
    async gql(query, variables, { token = ADMIN_TOKEN } = {}) {
      const response = await app.yoga.fetch('http://test/graphql', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ query, variables }),
      });
      return { ...(await response.json()), status: response.status };
    },
    async close() {
      await app.yoga.dispose();
      await database.close();
    },
  };
}

/** The data of a result that must have no errors. */
export function ok<T>(result: GqlResult<T>): T {
  if (result.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
  if (!result.data) throw new Error('no data');
  return result.data;
}

/** The error codes of a result, in order. */
export const codes = (result: GqlResult<unknown>) =>
  (result.errors ?? []).map((e) => e.extensions?.code);
