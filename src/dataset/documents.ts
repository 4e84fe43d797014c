import { and, desc, eq, inArray, lt, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { type DocumentRow, documents } from '../db/dataset-tables.ts';
import { isUuid } from '../db/ids.ts';
import { decodeCursor, type Page, type PageArgs, toPage } from '../db/pagination.ts';
import { checkBundeslaender, checkDocType } from './filters.ts';

export type DocumentFilter = PageArgs & {
  bundesland?: string | null;
  docType?: string | null;
};

/** Stored documents, newest first, keyset-paginated; filters are checked (BAD_USER_INPUT). */
export async function listDocuments(db: Db, filter: DocumentFilter): Promise<Page<DocumentRow>> {
  const where: SQL[] = [];
  if (filter.after) where.push(lt(documents.seq, decodeCursor(filter.after)));
  if (filter.bundesland) {
    const [code] = checkBundeslaender([filter.bundesland], 'bundesland');
    if (code) where.push(eq(documents.bundesland, code));
  }
  if (filter.docType) where.push(eq(documents.docType, checkDocType(filter.docType, 'docType')));
  const rows = await db
    .select()
    .from(documents)
    .where(and(...where))
    .orderBy(desc(documents.seq))
    .limit(filter.first + 1);
  return toPage(rows, filter.first);
}

export async function getDocumentsByIds(db: Db, ids: readonly string[]): Promise<DocumentRow[]> {
  const valid = ids.filter(isUuid);
  if (valid.length === 0) return [];
  return db.select().from(documents).where(inArray(documents.id, valid));
}
