import { and, desc, eq, inArray, type SQL } from 'drizzle-orm';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Db } from './client.ts';
import { isUuid } from './ids.ts';
import { type Page, toPage } from './pagination.ts';

/** A table keyed by a uuid `id`. */
type ById = PgTable & { id: AnyPgColumn };
/** A table with an insertion sequence `seq`, the key of newest-first pages. */
type BySeq = PgTable & { seq: AnyPgColumn };
type Row<T extends PgTable> = T['$inferSelect'];

/** The row with this id; none for an id that is no uuid (a client's typo is not a SQL error). */
export async function rowById<T extends ById>(
  db: Db,
  table: T,
  id: string,
): Promise<Row<T> | undefined> {
  if (!isUuid(id)) return undefined;
  const [row] = await db
    .select()
    .from(table as PgTable)
    .where(eq(table.id, id));
  return row as Row<T> | undefined;
}

/** The rows with these ids, in no particular order; ids that are no uuid find nothing. */
export async function rowsByIds<T extends ById>(
  db: Db,
  table: T,
  ids: readonly string[],
): Promise<Row<T>[]> {
  const valid = ids.filter(isUuid);
  if (valid.length === 0) return [];
  return (await db
    .select()
    .from(table as PgTable)
    .where(inArray(table.id, valid))) as Row<T>[];
}

/** `first` rows matching `where`, newest first, and whether more follow. */
export async function newestFirstPage<T extends BySeq>(
  db: Db,
  table: T,
  where: SQL[],
  first: number,
): Promise<Page<Row<T>>> {
  const rows = await db
    .select()
    .from(table as PgTable)
    .where(and(...where))
    .orderBy(desc(table.seq))
    .limit(first + 1);
  return toPage(rows as Row<T>[], first);
}
