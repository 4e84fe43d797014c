import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { BUNDESLAND_CODES, type Bundesland } from '../vocabulary/bundeslaender.ts';
import { DOC_TYPES, type DocType } from '../vocabulary/doc-types.ts';
import { inList } from './columns.ts';

/** Imported training documents. Immutable once stored: re-importing the same text is a no-op. */
export const documents = pgTable(
  'documents',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** Insertion order: the stable key for pagination. */
    seq: bigint('seq', { mode: 'number' }).generatedAlwaysAsIdentity().notNull(),
    title: text('title').notNull(),
    text: text('text').notNull(),
    bundesland: text('bundesland').$type<Bundesland>().notNull(),
    docType: text('doc_type').$type<DocType>().notNull(),
    trainingAllowed: boolean('training_allowed').notNull(),
    source: text('source'),
    /** SHA-256 (hex) of the normalised text: the deduplication key. */
    contentHash: text('content_hash').notNull(),
    /** Stored with the document (documents never change) so that statistics need not scan chunks. */
    chunkCount: integer('chunk_count').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('documents_seq_uq').on(t.seq),
    uniqueIndex('documents_content_hash_uq').on(t.contentHash),
    index('documents_bundesland_doc_type_idx').on(t.bundesland, t.docType),
    check('documents_bundesland_check', sql`${t.bundesland} IN (${inList(BUNDESLAND_CODES)})`),
    check('documents_doc_type_check', sql`${t.docType} IN (${inList(DOC_TYPES)})`),
    check('documents_chunk_count_check', sql`${t.chunkCount} >= 1`),
  ],
);

/** A document's text cut into bounded, overlapping pieces: the trainer's examples. */
export const chunks = pgTable(
  'chunks',
  {
    documentId: uuid('document_id')
      .notNull()
      .references(() => documents.id, { onDelete: 'cascade' }),
    index: integer('index').notNull(),
    text: text('text').notNull(),
    wordCount: integer('word_count').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.documentId, t.index] }),
    check('chunks_word_count_check', sql`${t.wordCount} >= 1`),
  ],
);

export type DocumentRow = typeof documents.$inferSelect;
export type ChunkRow = typeof chunks.$inferSelect;
