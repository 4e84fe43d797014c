import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { inject } from 'vitest';
import { type Database, openDatabase } from '../../src/db/client.ts';

export const TEMPLATE_DUMP = fileURLToPath(
  new URL('../../.test-data/template.tar', import.meta.url),
);

export const templateDatabaseName = () => `training_api_tpl_${process.pid}`;

/** The same server, connected to its maintenance database. */
export function adminUrl(url: string): string {
  const u = new URL(url);
  u.pathname = '/postgres';
  return u.toString();
}

export async function withDatabase<T>(
  url: string,
  run: (sql: postgres.Sql) => Promise<T>,
): Promise<T> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return await run(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export type TestDatabase = Database & { url?: string };

/**
 * A fresh, migrated database for one test: a copy of the run's template, on PostgreSQL when
 * DATABASE_URL is set and on in-memory PGlite otherwise. Closing it drops it.
 */
export async function createTestDatabase(
  options: { onQuery?: (sql: string) => void; maxConnections?: number } = {},
): Promise<TestDatabase> {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    const dump = new Blob([readFileSync(TEMPLATE_DUMP)]);
    return openDatabase({ kind: 'pglite', loadDataDir: dump, onQuery: options.onQuery });
  }
  const name = `training_api_test_${randomBytes(6).toString('hex')}`;
  const admin = adminUrl(databaseUrl);
  await withDatabase(admin, (sql) =>
    sql.unsafe(`CREATE DATABASE "${name}" TEMPLATE "${inject('pgTemplate')}"`),
  );
  const u = new URL(databaseUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  const database = await openDatabase({ kind: 'postgres', url, ...options });
  return {
    ...database,
    url,
    close: async () => {
      await database.close();
      await withDatabase(admin, (sql) =>
        sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
      );
    },
  };
}

export const onPostgres = () => Boolean(process.env.DATABASE_URL);
export const repoRoot = path.resolve(path.dirname(TEMPLATE_DUMP), '..');
