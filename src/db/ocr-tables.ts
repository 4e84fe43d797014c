import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  doublePrecision,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import {
  IMAGE_TYPES,
  type ImageType,
  MAX_IMAGES_PER_BATCH,
  OCR_BATCH_STATUSES,
  OCR_LANGUAGES,
  type OcrBatchStatus,
  type OcrLanguage,
} from '../vocabulary/ocr.ts';
import { bytea, inList, tz } from './columns.ts';

/** postgres.js reads bytea as Buffer, PGlite as Uint8Array: both are Uint8Array. */

export const ocrBatches = pgTable(
  'ocr_batches',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    seq: bigint('seq', { mode: 'number' }).generatedAlwaysAsIdentity().notNull(),
    status: text('status').$type<OcrBatchStatus>().notNull().default('PENDING'),
    language: text('language').$type<OcrLanguage>().notNull(),
    total: integer('total').notNull(),
    /** Images with a result; counted in the same transaction that stores the result. */
    processed: integer('processed').notNull().default(0),
    /** Of those, the ones whose result is an error. */
    failed: integer('failed').notNull().default(0),
    createdAt: tz('created_at').notNull().defaultNow(),
    completedAt: tz('completed_at'),
  },
  (t) => [
    uniqueIndex('ocr_batches_seq_uq').on(t.seq),
    // the few batches a starting server must resume
    index('ocr_batches_unfinished_idx').on(t.seq).where(sql`${t.status} <> 'COMPLETED'`),
    check('ocr_batches_status_check', sql`${t.status} IN (${inList(OCR_BATCH_STATUSES)})`),
    check('ocr_batches_language_check', sql`${t.language} IN (${inList(OCR_LANGUAGES)})`),
    check(
      'ocr_batches_total_check',
      sql`${t.total} BETWEEN 1 AND ${sql.raw(String(MAX_IMAGES_PER_BATCH))}`,
    ),
    check(
      'ocr_batches_processed_check',
      sql`${t.processed} BETWEEN 0 AND ${t.total} AND ${t.failed} BETWEEN 0 AND ${t.processed}`,
    ),
  ],
);

/**
 * One row per uploaded file. An image's bytes stay in `image` until it has its result, so that a
 * batch interrupted by a restart can finish; then they are dropped (the SHA-256 remains). Files
 * answered at upload (no image, or a cache hit) never store their bytes.
 */
export const ocrResults = pgTable(
  'ocr_results',
  {
    batchId: uuid('batch_id')
      .notNull()
      .references(() => ocrBatches.id, { onDelete: 'cascade' }),
    index: integer('index').notNull(),
    filename: text('filename'),
    /** Detected from the magic bytes; null when the file is no image we read. */
    imageType: text('image_type').$type<ImageType>(),
    byteSize: integer('byte_size').notNull(),
    sha256: text('sha256').notNull(),
    image: bytea('image'),
    // set together once the image has its result
    /** 1 for the first result of the batch, 2 for the next, … (the progress event's `current`). */
    position: integer('position'),
    text: text('text'),
    /** 0..1 */
    confidence: doublePrecision('confidence'),
    processingTimeMs: integer('processing_time_ms'),
    fromCache: boolean('from_cache').notNull().default(false),
    error: text('error'),
    completedAt: tz('completed_at'),
  },
  (t) => [
    primaryKey({ columns: [t.batchId, t.index] }),
    check('ocr_results_image_type_check', sql`${t.imageType} IN (${inList(IMAGE_TYPES)})`),
    check('ocr_results_image_check', sql`${t.image} IS NULL OR ${t.completedAt} IS NULL`),
    check(
      'ocr_results_done_check',
      sql`(${t.completedAt} IS NULL) = (${t.position} IS NULL) AND (${t.completedAt} IS NULL) = (${t.processingTimeMs} IS NULL)`,
    ),
  ],
);

/** Recognised text by image content, language and engine version: a repeated image is not read again. */
export const ocrCache = pgTable(
  'ocr_cache',
  {
    sha256: text('sha256').notNull(),
    language: text('language').$type<OcrLanguage>().notNull(),
    engineVersion: text('engine_version').notNull(),
    text: text('text').notNull(),
    confidence: doublePrecision('confidence').notNull(),
    createdAt: tz('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.sha256, t.language, t.engineVersion] })],
);

export type OcrBatchRow = typeof ocrBatches.$inferSelect;
export type OcrResultRow = typeof ocrResults.$inferSelect;

/** A finished image: what the API shows and the progress events carry. */
export type ImageResult = Omit<OcrResultRow, 'image' | 'position' | 'processingTimeMs'> & {
  position: number;
  processingTimeMs: number;
  completedAt: Date;
};
