import { eq, lt, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { type DocumentRow, documents } from '../db/dataset-tables.ts';
import { decodeCursor, type Page, type PageArgs } from '../db/pagination.ts';
import { newestFirstPage, rowsByIds } from '../db/rows.ts';
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
  return newestFirstPage(db, documents, where, filter.first);
}

export const getDocumentsByIds = (db: Db, ids: readonly string[]): Promise<DocumentRow[]> =>
  rowsByIds(db, documents, ids);
