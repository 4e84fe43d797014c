import type { SQL } from 'drizzle-orm';
import type { Db } from './client.ts';

/**
 * The rows of a hand-written statement. `db.execute` answers with an array on postgres.js and
 * with `{ rows }` on PGlite; callers should not care which.
 */
export async function executeRows<T>(db: Db, query: SQL): Promise<T[]> {
  const result: unknown = await db.execute(query);
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}
