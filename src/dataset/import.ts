import type { Db } from '../db/client.ts';
import { chunkText } from './chunker.ts';
import { contentHash } from './content-hash.ts';
import { type ByteSource, type Line, MAX_LINE_BYTES, splitLines } from './lines.ts';
import { parseLine } from './record.ts';
import { insertDocuments, type PreparedDocument } from './store.ts';

export type ImportResult = {
  added: number;
  /** Already stored, or repeated within the file. */
  skipped: number;
  rejected: number;
  /** `line N: reason` for the first `maxErrors` rejected lines. */
  errors: string[];
};

export type ImportProgress = Omit<ImportResult, 'errors'> & { lines: number };

export type ImportOptions = {
  /** Documents per transaction. */
  batchSize?: number;
  maxErrors?: number;
  /** Called after each stored batch. */
  onProgress?: (progress: ImportProgress) => void;
};

export const DEFAULT_BATCH_SIZE = 1000;
export const MAX_ERRORS = 100;

/** Imports a JSON Lines byte stream (a file, an upload); see `importLines`. */
export function importStream(
  db: Db,
  source: ByteSource,
  options?: ImportOptions,
): Promise<ImportResult> {
  return importLines(db, splitLines(source), options);
}

/**
 * Validates, chunks and stores documents, one per line. A bad line is rejected with its number
 * and reason while the others load; blank lines are ignored. Batches are written one at a time,
 * each atomically, while the next is parsed; so if the source fails half-way, what was stored
 * is whole batches, and the error propagates once the last write has settled.
 */
export async function importLines(
  db: Db,
  lines: AsyncIterable<Line>,
  { batchSize = DEFAULT_BATCH_SIZE, maxErrors = MAX_ERRORS, onProgress }: ImportOptions = {},
): Promise<ImportResult> {
  const result: ImportResult = { added: 0, skipped: 0, rejected: 0, errors: [] };
  let lineNumber = 0;
  let batch: PreparedDocument[] = [];
  let hashesInBatch = new Set<string>();

  // At most one write in flight; its failure is kept (not left unhandled) and rethrown on drain.
  let writing: Promise<void> = Promise.resolve();
  let writeError: { error: unknown } | undefined;
  const drain = async () => {
    await writing;
    if (writeError) throw writeError.error;
  };
  const write = (docs: PreparedDocument[]) => {
    const linesSoFar = lineNumber;
    writing = insertDocuments(db, docs).then(
      (stored) => {
        result.added += stored.documents;
        result.skipped += docs.length - stored.documents;
        onProgress?.({ ...counts(result), lines: linesSoFar });
      },
      (error: unknown) => {
        writeError = { error };
      },
    );
  };
  const reject = (reason: string) => {
    result.rejected += 1;
    if (result.errors.length < maxErrors) result.errors.push(`line ${lineNumber}: ${reason}`);
  };

  try {
    for await (const line of lines) {
      lineNumber += 1;
      if (typeof line !== 'string') {
        reject(`longer than ${MAX_LINE_BYTES} bytes (${line.bytes})`);
        continue;
      }
      if (line.trim() === '') continue;
      const parsed = parseLine(line);
      if (!parsed.ok) {
        reject(parsed.reason);
        continue;
      }
      const hash = contentHash(parsed.record.text);
      if (hashesInBatch.has(hash)) {
        result.skipped += 1;
        continue;
      }
      hashesInBatch.add(hash);
      batch.push({ ...parsed.record, contentHash: hash, chunks: chunkText(parsed.record.text) });
      if (batch.length >= batchSize) {
        await drain();
        write(batch);
        batch = [];
        hashesInBatch = new Set();
      }
    }
    await drain();
    write(batch);
    await drain();
  } finally {
    // Never return (or throw) with a write still running on the connection.
    await writing;
  }
  return result;
}

const counts = ({ added, skipped, rejected }: ImportResult) => ({ added, skipped, rejected });
