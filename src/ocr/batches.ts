import { randomUUID } from 'node:crypto';
import { and, asc, eq, getTableColumns, isNotNull, isNull, ne, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { rowById, rowsByIds } from '../db/rows.ts';
import {
  type ImageResult,
  type OcrBatchRow,
  type OcrResultRow,
  ocrBatches,
  ocrResults,
} from '../db/schema.ts';
import type { ImageType, OcrLanguage } from '../vocabulary/ocr.ts';
import type { Dimensions } from './image-size.ts';

/** An uploaded file as stored: the bytes only when they are an image the engine can read. */
export type StoredUpload = {
  filename: string | null;
  bytes: Uint8Array;
  byteSize: number;
  sha256: string;
  imageType: ImageType | null;
  /** As the header states them; null when it could not be read (the engine will tell). */
  dimensions?: Dimensions | null;
};

/** What processing an image produced (the text, or why there is none). */
export type Outcome = {
  text?: string;
  confidence?: number;
  fromCache?: boolean;
  error?: string;
  processingTimeMs: number;
};

/** A batch; `finished`, its finished images, when they were read along with it. */
export type OcrBatch = OcrBatchRow & { finished?: ImageResult[] };

const { image: _image, ...resultColumns } = getTableColumns(ocrResults);

function asImageResult(row: Omit<OcrResultRow, 'image'>): ImageResult {
  const { position, processingTimeMs, completedAt } = row;
  if (position === null || processingTimeMs === null || completedAt === null) {
    throw new Error(`OCR result ${row.batchId}/${row.index} is not finished`);
  }
  return { ...row, position, processingTimeMs, completedAt };
}

/**
 * Stores a batch and its files in one statement (two data-modifying CTEs), so it exists whole or
 * not at all; one round trip keeps a batch answered from the cache fast. Files with an outcome
 * already (see `answerAtUpload`) are stored finished, numbered in upload order; a batch they all
 * have is stored COMPLETED. The others keep their bytes for the processor. Returns the batch with
 * its finished images.
 */
export async function insertBatch(
  db: Db,
  language: OcrLanguage,
  uploads: readonly StoredUpload[],
  outcomes: readonly (Outcome | null)[],
): Promise<Required<OcrBatch>> {
  let position = 0;
  const positions = outcomes.map((outcome) => (outcome ? ++position : null));
  const done = position === uploads.length;
  // The id is chosen here so that both inserts can name it.
  const batchId = randomUUID();
  const batch = db.$with('inserted_batch').as(
    db
      .insert(ocrBatches)
      .values({
        id: batchId,
        language,
        total: uploads.length,
        processed: position,
        failed: outcomes.filter((outcome) => outcome?.error !== undefined).length,
        ...(done ? { status: 'COMPLETED' as const, completedAt: sql`now()` } : {}),
      })
      .returning(),
  );
  const results = db.$with('inserted_results').as(
    db
      .insert(ocrResults)
      .values(
        uploads.map((upload, index) => {
          const outcome = outcomes[index];
          return {
            batchId,
            index,
            filename: upload.filename,
            imageType: upload.imageType,
            byteSize: upload.byteSize,
            sha256: upload.sha256,
            image: outcome ? null : upload.bytes,
            ...(outcome && { ...finished(outcome), position: positions[index] }),
          };
        }),
      )
      .returning(resultColumns),
  );
  const rows = await db
    .with(batch, results)
    .select()
    .from(batch)
    .leftJoin(results, isNotNull(results.completedAt))
    .orderBy(asc(results.position));
  const [first] = rows;
  if (!first) throw new Error('insert returned no row');
  return {
    ...first.inserted_batch,
    finished: rows.flatMap((row) =>
      row.inserted_results ? [asImageResult(row.inserted_results)] : [],
    ),
  };
}

/** The result columns of a finished file. */
const finished = (outcome: Outcome) => ({
  text: outcome.text ?? null,
  confidence: outcome.confidence ?? null,
  processingTimeMs: outcome.processingTimeMs,
  fromCache: outcome.fromCache ?? false,
  error: outcome.error ?? null,
  completedAt: sql`now()`,
});

export const getBatch = (db: Db, id: string): Promise<OcrBatchRow | undefined> =>
  rowById(db, ocrBatches, id);

export const getBatchesByIds = (db: Db, ids: readonly string[]): Promise<OcrBatchRow[]> =>
  rowsByIds(db, ocrBatches, ids);

/** The finished images of a batch, in the order they finished. */
export async function finishedResults(db: Db, batchId: string): Promise<ImageResult[]> {
  const rows = await db
    .select(resultColumns)
    .from(ocrResults)
    .where(and(eq(ocrResults.batchId, batchId), isNotNull(ocrResults.completedAt)))
    .orderBy(asc(ocrResults.position));
  return rows.map(asImageResult);
}

/** The batch and its finished images as of one moment (a snapshot, so the two agree). */
export async function batchSnapshot(
  db: Db,
  batchId: string,
): Promise<{ batch: OcrBatchRow; results: ImageResult[] } | undefined> {
  return db.transaction(
    async (tx) => {
      const batch = await getBatch(tx, batchId);
      return batch && { batch, results: await finishedResults(tx, batchId) };
    },
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  );
}

export type PendingImage = Pick<OcrResultRow, 'index' | 'sha256'>;

export function pendingImages(db: Db, batchId: string): Promise<PendingImage[]> {
  return db
    .select({ index: ocrResults.index, sha256: ocrResults.sha256 })
    .from(ocrResults)
    .where(and(eq(ocrResults.batchId, batchId), isNull(ocrResults.completedAt)))
    .orderBy(asc(ocrResults.index));
}

/** The stored bytes of a pending image (read one at a time: a batch may hold 2 GB). */
export async function imageBytes(
  db: Db,
  batchId: string,
  index: number,
): Promise<Uint8Array | null> {
  const [row] = await db
    .select({ image: ocrResults.image })
    .from(ocrResults)
    .where(and(eq(ocrResults.batchId, batchId), eq(ocrResults.index, index)));
  return row?.image ?? null;
}

/** Marks a batch PROCESSING; a finished batch is returned as it is. */
export async function startBatch(db: Db, batchId: string): Promise<OcrBatchRow | undefined> {
  const [row] = await db
    .update(ocrBatches)
    .set({ status: 'PROCESSING' })
    .where(and(eq(ocrBatches.id, batchId), ne(ocrBatches.status, 'COMPLETED')))
    .returning();
  return row ?? getBatch(db, batchId);
}

/**
 * Stores an image's result and counts it in its batch, completing the batch with its last image.
 * The batch row is locked first so that results are numbered without gaps; an image that already
 * has a result (another server got there first) is left alone and null returned.
 */
export async function recordResult(
  db: Db,
  batchId: string,
  index: number,
  outcome: Outcome,
): Promise<{ batch: OcrBatchRow; result: ImageResult } | null> {
  return db.transaction(async (tx) => {
    const [locked] = await tx
      .select({ processed: ocrBatches.processed, total: ocrBatches.total })
      .from(ocrBatches)
      .where(eq(ocrBatches.id, batchId))
      .for('update');
    if (!locked) return null;
    const position = locked.processed + 1;
    const [result] = await tx
      .update(ocrResults)
      .set({ ...finished(outcome), position, image: null })
      .where(
        and(
          eq(ocrResults.batchId, batchId),
          eq(ocrResults.index, index),
          isNull(ocrResults.completedAt),
        ),
      )
      .returning(resultColumns);
    if (!result) return null;
    const done = position === locked.total;
    const [batch] = await tx
      .update(ocrBatches)
      .set({
        processed: position,
        failed: sql`${ocrBatches.failed} + ${outcome.error === undefined ? 0 : 1}`,
        ...(done ? { status: 'COMPLETED' as const, completedAt: sql`now()` } : {}),
      })
      .where(eq(ocrBatches.id, batchId))
      .returning();
    if (!batch) throw new Error(`OCR batch ${batchId} vanished while locked`);
    return { batch, result: asImageResult(result) };
  });
}

/** Batches a previous run left unfinished, oldest first. */
export async function unfinishedBatchIds(db: Db): Promise<string[]> {
  const rows = await db
    .select({ id: ocrBatches.id })
    .from(ocrBatches)
    .where(ne(ocrBatches.status, 'COMPLETED'))
    .orderBy(asc(ocrBatches.seq));
  return rows.map((row) => row.id);
}
