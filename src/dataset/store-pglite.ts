import type { PGlite } from '@electric-sql/pglite';
import { COPY_CHUNKS, COPY_DOCUMENTS, copyRowsOf, freshRows } from './batch-rows.ts';
import type { PreparedDocument, StoredCounts } from './store.ts';

/**
 * Stores a batch on PGlite in one transaction: the hashes already stored, then COPY of the
 * other documents and of their chunks from an in-memory file (`/dev/blob`, PGlite's COPY
 * source), 1.3–2× as fast as one `INSERT … SELECT` from JSON. A PGlite transaction runs
 * alone (other queries wait), and no other process opens the database, so no lock is needed.
 */
export function storeOnPglite(
  pglite: PGlite,
  batch: readonly PreparedDocument[],
): Promise<StoredCounts> {
  return pglite.transaction(async (tx) => {
    const { rows: stored } = await tx.query<{ content_hash: string }>(
      'select content_hash from documents where content_hash = any($1)',
      [batch.map((d) => d.contentHash)],
    );
    const rows = freshRows(
      batch,
      copyRowsOf(batch),
      stored.map((row) => row.content_hash),
    );
    if (rows.documents === 0) return { documents: 0, chunks: 0 };
    await tx.query(`${COPY_DOCUMENTS} from '/dev/blob'`, [], {
      blob: new Blob([rows.documentRows]),
    });
    await tx.query(`${COPY_CHUNKS} from '/dev/blob'`, [], { blob: new Blob([rows.chunkRows]) });
    return { documents: rows.documents, chunks: rows.chunks };
  });
}
