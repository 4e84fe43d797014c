import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { executeRows, postgresClient } from '../db/raw.ts';
import type { Chunk } from './chunker.ts';
import type { DocumentRecord } from './record.ts';
import { copyDocuments } from './store-copy.ts';

export type PreparedDocument = DocumentRecord & { contentHash: string; chunks: Chunk[] };

export type StoredCounts = { documents: number; chunks: number };

/**
 * Stores a batch of documents with their chunks atomically: a batch is in the database whole or
 * not at all. A document whose content hash is already stored (by an earlier batch or a
 * concurrent import) is skipped with its chunks. PostgreSQL gets COPY (`store-copy.ts`); PGlite,
 * which has no COPY from a client stream, one statement.
 */
export async function insertDocuments(
  db: Db,
  batch: readonly PreparedDocument[],
): Promise<StoredCounts> {
  if (batch.length === 0) return { documents: 0, chunks: 0 };
  const sql = postgresClient(db);
  return sql ? copyDocuments(sql, batch) : insertAsJson(db, batch);
}

/**
 * One statement, so atomic; the whole batch travels as one JSON parameter (one round trip, no
 * parameter limit, no per-row statement planning).
 */
async function insertAsJson(db: Db, batch: readonly PreparedDocument[]): Promise<StoredCounts> {
  const payload = JSON.stringify(
    batch.map((d, ord) => ({
      ord,
      title: d.title,
      text: d.text,
      bundesland: d.bundesland,
      doc_type: d.docType,
      training_allowed: d.trainingAllowed,
      source: d.source,
      content_hash: d.contentHash,
      chunks: d.chunks.map((c) => ({ index: c.index, text: c.text, word_count: c.wordCount })),
    })),
  );
  const [counts] = await executeRows<StoredCounts>(
    db,
    sql`
      with input as (
        select * from json_to_recordset(${payload}::json) as d(
          ord integer, title text, "text" text, bundesland text, doc_type text,
          training_allowed boolean, source text, content_hash text, chunks json)
      ),
      inserted as (
        insert into documents
          (title, "text", bundesland, doc_type, training_allowed, source, content_hash, chunk_count)
        select title, "text", bundesland, doc_type, training_allowed, source, content_hash,
          json_array_length(chunks)
        from input order by ord
        on conflict (content_hash) do nothing
        returning id, content_hash
      ),
      inserted_chunks as (
        insert into chunks (document_id, "index", "text", word_count)
        select inserted.id, c."index", c."text", c.word_count
        from inserted
        join input using (content_hash)
        cross join lateral json_to_recordset(input.chunks) as c("index" integer, "text" text, word_count integer)
        returning 1
      )
      select (select count(*) from inserted)::int as documents,
        (select count(*) from inserted_chunks)::int as chunks`,
  );
  return { documents: counts?.documents ?? 0, chunks: counts?.chunks ?? 0 };
}
