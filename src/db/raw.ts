import { PGlite } from '@electric-sql/pglite';
import type { SQL } from 'drizzle-orm';
import type postgres from 'postgres';
import type { Db } from './client.ts';

/**
 * The rows of a hand-written statement. `db.execute` answers with an array on postgres.js and
 * with `{ rows }` on PGlite; callers should not care which.
 */
export async function executeRows<T>(db: Db, query: SQL): Promise<T[]> {
  const result: unknown = await db.execute(query);
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

/** The client under a drizzle database, for what drizzle does not offer (such as COPY). */
export type Driver = { kind: 'postgres'; sql: postgres.Sql } | { kind: 'pglite'; pglite: PGlite };

export function driverOf(db: Db): Driver {
  const client: unknown = (db as unknown as { $client: unknown }).$client;
  return client instanceof PGlite
    ? { kind: 'pglite', pglite: client }
    : { kind: 'postgres', sql: client as postgres.Sql };
}
