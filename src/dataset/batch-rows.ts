import { randomUUID } from 'node:crypto';
import { CopyRows } from './copy-text.ts';
import type { PreparedDocument, StoredCounts } from './store.ts';

/** A batch as COPY rows: documents (with ids made here) and their chunks. */
export type BatchRows = StoredCounts & {
  documentRows: Buffer<ArrayBuffer>;
  chunkRows: Buffer<ArrayBuffer>;
};

/** The COPY rows of the documents not among `stored` hashes; `all` when none is. */
export function freshRows(
  batch: readonly PreparedDocument[],
  all: BatchRows,
  stored: readonly string[],
): BatchRows {
  if (stored.length === 0) return all;
  const known = new Set(stored);
  return copyRowsOf(batch.filter((d) => !known.has(d.contentHash)));
}

/** COPY rows (columns as in COPY_DOCUMENTS and COPY_CHUNKS), each document with a new id. */
export function copyRowsOf(docs: readonly PreparedDocument[]): BatchRows {
  const documentRows = new CopyRows();
  const chunkRows = new CopyRows();
  let chunks = 0;
  for (const d of docs) {
    const id = randomUUID();
    documentRows.add([
      id,
      d.title,
      d.text,
      d.bundesland,
      d.docType,
      d.trainingAllowed,
      d.source,
      d.contentHash,
      d.chunks.length,
    ]);
    for (const c of d.chunks) chunkRows.add([id, c.index, c.text, c.wordCount]);
    chunks += d.chunks.length;
  }
  return {
    documents: docs.length,
    chunks,
    documentRows: documentRows.bytes(),
    chunkRows: chunkRows.bytes(),
  };
}

/** The COPY statements, column lists matching `copyRowsOf`. */
export const COPY_DOCUMENTS =
  'copy documents (id, title, "text", bundesland, doc_type, training_allowed, source, content_hash, chunk_count)';
export const COPY_CHUNKS = 'copy chunks (document_id, "index", "text", word_count)';
