import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type postgres from 'postgres';
import { COPY_CHUNKS, COPY_DOCUMENTS, copyRowsOf, freshRows } from './batch-rows.ts';
import type { PreparedDocument, StoredCounts } from './store.ts';

/**
 * Taken by every batch before it looks for stored hashes: COPY has no ON CONFLICT, so the check
 * and the COPY after it must not interleave with another import's batch. Held to the commit.
 */
const IMPORT_LOCK = "select pg_advisory_xact_lock(hashtext('documents:import'))";

/**
 * Long texts (over 2 kB) are compressed when stored; lz4 is cheaper than the default pglz (the
 * documents' COPY about 20 % faster here) and reads back the same. Only for this transaction,
 * and only where the server was built with lz4.
 */
const LZ4_IF_AVAILABLE = `
  select set_config('default_toast_compression', 'lz4', true) from pg_settings
  where name = 'default_toast_compression' and 'lz4' = any(enumvals)`;

/**
 * Stores a batch on PostgreSQL in one transaction: under the lock, the hashes already stored,
 * then COPY of the other documents and of their chunks.
 */
export async function storeOnPostgres(
  sql: postgres.Sql,
  batch: readonly PreparedDocument[],
): Promise<StoredCounts> {
  // Encoded before the transaction, so the server is not kept waiting (usually nothing is stored).
  const all = copyRowsOf(batch);
  return sql.begin(async (tx) => {
    // Sent together (one round trip); the check runs after the lock is granted, so it sees
    // what the batch that held it committed.
    const [, , stored] = await Promise.all([
      tx.unsafe(LZ4_IF_AVAILABLE),
      tx.unsafe(IMPORT_LOCK),
      tx<{ content_hash: string }[]>`
        select content_hash from documents
        where content_hash = any(${tx.array(batch.map((d) => d.contentHash))})`,
    ]);
    const rows = freshRows(
      batch,
      all,
      stored.map((row) => row.content_hash),
    );
    if (rows.documents === 0) return { documents: 0, chunks: 0 };
    await copyIn(tx, tx.unsafe(`${COPY_DOCUMENTS} from stdin`).writable(), rows.documentRows);
    await copyIn(tx, tx.unsafe(`${COPY_CHUNKS} from stdin`).writable(), rows.chunkRows);
    return { documents: rows.documents, chunks: rows.chunks };
  });
}

/** Sends `rows` (COPY text format) through a started `COPY … FROM STDIN`; throws if it failed. */
async function copyIn(tx: postgres.TransactionSql, copy: Promise<Writable>, rows: Buffer) {
  const stream = await copy;
  await new Promise<void>((resolve, reject) => {
    stream.once('error', reject);
    stream.write(rows, (error) => (error ? reject(error) : resolve()));
  });
  // Nothing left to write: this sends CopyDone now and frees the connection for what follows.
  stream.end();
  // postgres.js never settles a COPY that the server rejects after CopyDone (porsager/postgres
  // #1173), so waiting for 'finish' could hang. A statement behind it fails instead (the
  // transaction is aborted) and the batch rolls back.
  await tx`select 1`;
  // The COPY succeeded. Its stream, destroyed after 'finish', sends a CopyFail, which the server
  // ignores now but would take as the end of a COPY started before: wait for that first.
  if (!stream.closed) await once(stream, 'close');
}
