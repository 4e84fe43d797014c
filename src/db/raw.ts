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

/**
 * The postgres.js client under `db` (for what drizzle does not offer, such as COPY), or
 * undefined on PGlite. postgres.js's client is a function (the `sql` template tag).
 */
export function postgresClient(db: Db): postgres.Sql | undefined {
  const client: unknown = (db as unknown as { $client: unknown }).$client;
  return typeof client === 'function' ? (client as postgres.Sql) : undefined;
}
