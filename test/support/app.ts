import { pino } from 'pino';
import { type App, type AppSettings, createApp } from '../../src/app.ts';
import { TokenStore } from '../../src/auth/tokens.ts';
import { loadConfig } from '../../src/config.ts';
import type { Logger } from '../../src/logger.ts';
import { createTestDatabase, type TestDatabase } from './databases.ts';
import { seedTrainingData } from './training-data.ts';

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

export type TestAppOptions = {
  authDisabled?: boolean;
  /** Limits and switches; the environment defaults (with one OCR worker) when left out. */
  settings?: AppSettings;
  /**
   * An existing database (e.g. to start a second app on it, as after a restart). The caller owns
   * it: `close()` leaves it open, and `queries` stays empty.
   */
  database?: TestDatabase;
  ocr?: { workers?: number; maxImageBytes?: number };
  sseKeepAliveMs?: number;
  progressMaxEventsPerSecond?: number;
  /** Where the app logs (silent unless TEST_LOG_LEVEL says otherwise). */
  logger?: Logger;
  /** A small corpus in every state, so that jobs can be created (seedTrainingData). */
  trainingData?: boolean;
};

/**
 * The real yoga app on a fresh database, with an admin and a viewer token; started as the server
 * starts it (unfinished OCR batches resumed).
 */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const queries: string[] = [];
  const database =
    options.database ?? (await createTestDatabase({ onQuery: (sql) => queries.push(sql) }));
  const logger = options.logger ?? pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const tokens = options.authDisabled
    ? 'disabled'
    : new TokenStore([
        { token: ADMIN_TOKEN, role: 'admin' },
        { token: VIEWER_TOKEN, role: 'viewer' },
      ]);
  const base = options.settings ?? testSettings();
  const settings: AppSettings = {
    ...base,
    ocrWorkers: options.ocr?.workers ?? base.ocrWorkers,
    ocrMaxImageBytes: options.ocr?.maxImageBytes ?? base.ocrMaxImageBytes,
    sseKeepAliveMs: options.sseKeepAliveMs ?? base.sseKeepAliveMs,
    progressMaxEventsPerSecond:
      options.progressMaxEventsPerSecond ?? base.progressMaxEventsPerSecond,
  };
  const app = createApp({ database, logger, tokens, settings });
  await app.ocr.resumeUnfinished();
  if (options.trainingData) await seedTrainingData(database.db);
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
      if (!options.database) await database.close();
    },
  };
}

/**
 * The environment's defaults with one OCR worker; SSE_FAST_PATH is taken from the environment,
 * so that CI runs the subscription tests on both paths.
 */
export const testSettings = (env: NodeJS.ProcessEnv = {}) =>
  loadConfig({ OCR_WORKERS: '1', SSE_FAST_PATH: process.env.SSE_FAST_PATH, ...env });

/** The data of a result that must have no errors. */
export function ok<T>(result: GqlResult<T>): T {
  if (result.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
  if (!result.data) throw new Error('no data');
  return result.data;
}

/** The error codes of a result, in order. */
export const codes = (result: GqlResult<unknown>) =>
  (result.errors ?? []).map((e) => e.extensions?.code);
