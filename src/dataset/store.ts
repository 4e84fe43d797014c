import type { Db } from '../db/client.ts';
import { driverOf } from '../db/raw.ts';
import type { Chunk } from './chunker.ts';
import type { DocumentRecord } from './record.ts';
import { storeOnPglite } from './store-pglite.ts';
import { storeOnPostgres } from './store-postgres.ts';

export type PreparedDocument = DocumentRecord & { contentHash: string; chunks: Chunk[] };

export type StoredCounts = { documents: number; chunks: number };

/**
 * Stores a batch of documents with their chunks atomically: a batch is in the database whole or
 * not at all. A document whose content hash is already stored (by an earlier batch or a
 * concurrent import) is skipped with its chunks. Rows go in by COPY: no per-row statement work,
 * rows written in bulk, ids made here so chunks need no lookup.
 */
export async function insertDocuments(
  db: Db,
  batch: readonly PreparedDocument[],
): Promise<StoredCounts> {
  if (batch.length === 0) return { documents: 0, chunks: 0 };
  const driver = driverOf(db);
  return driver.kind === 'postgres'
    ? storeOnPostgres(driver.sql, batch)
    : storeOnPglite(driver.pglite, batch);
}
