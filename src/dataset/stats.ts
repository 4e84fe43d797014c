import { and, asc, count, eq, inArray, lte, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { chunks, documents } from '../db/dataset-tables.ts';
import { BUNDESLAND_CODES, type Bundesland } from '../vocabulary/bundeslaender.ts';
import { DOC_TYPES } from '../vocabulary/doc-types.ts';
import { checkBundeslaender } from './filters.ts';

export type CountByKey = { key: string; count: number };

export type DatasetStats = {
  totalDocuments: number;
  totalChunks: number;
  /** Documents that may be trained on. */
  trainingAllowed: number;
  /** Chunks of those documents: the examples a job would get. */
  trainingAllowedChunks: number;
  /** Every state in scope and every document type, in their canonical order, zeros included. */
  byBundesland: CountByKey[];
  byDocType: CountByKey[];
};

const inStates = (states: readonly Bundesland[] | undefined): SQL | undefined =>
  states ? inArray(documents.bundesland, [...states]) : undefined;

/**
 * Counts of the stored documents, of all states or only of `bundeslaender` (checked:
 * BAD_USER_INPUT on `bundeslaender`). One scan: the totals and both breakdowns are grouping sets.
 */
export async function datasetStats(
  db: Db,
  bundeslaender?: readonly string[] | null,
): Promise<DatasetStats> {
  const states = bundeslaender ? checkBundeslaender(bundeslaender, 'bundeslaender') : undefined;
  const rows = await db
    .select({
      bundesland: documents.bundesland,
      docType: documents.docType,
      byState: sql<number>`grouping(${documents.bundesland})`.mapWith(Number),
      byType: sql<number>`grouping(${documents.docType})`.mapWith(Number),
      documents: count(),
      chunks: sql<number>`coalesce(sum(${documents.chunkCount}), 0)`.mapWith(Number),
      allowed: sql<number>`count(*) filter (where ${documents.trainingAllowed})`.mapWith(Number),
      allowedChunks:
        sql<number>`coalesce(sum(${documents.chunkCount}) filter (where ${documents.trainingAllowed}), 0)`.mapWith(
          Number,
        ),
    })
    .from(documents)
    .where(inStates(states))
    .groupBy(sql`grouping sets ((${documents.bundesland}), (${documents.docType}), ())`);

  // grouping(col) is 1 where col was aggregated away: (0,1) per state, (1,0) per type, (1,1) total.
  const total = rows.find((r) => r.byState === 1 && r.byType === 1);
  const perState = new Map(rows.filter((r) => r.byState === 0).map((r) => [r.bundesland, r]));
  const perType = new Map(rows.filter((r) => r.byType === 0).map((r) => [r.docType, r]));
  return {
    totalDocuments: total?.documents ?? 0,
    totalChunks: total?.chunks ?? 0,
    trainingAllowed: total?.allowed ?? 0,
    trainingAllowedChunks: total?.allowedChunks ?? 0,
    byBundesland: (states ?? BUNDESLAND_CODES)
      .filter((code, i, all) => all.indexOf(code) === i)
      .map((key) => ({ key, count: perState.get(key)?.documents ?? 0 })),
    byDocType: DOC_TYPES.map((key) => ({ key, count: perType.get(key)?.documents ?? 0 })),
  };
}

// Callers pass a job's states, which the database already constrains to the 16 codes; a job
// also passes the newest document it trains on, so that later imports do not change its data.
const trainable = (bundeslaender: readonly string[], upToSeq?: number) =>
  and(
    eq(documents.trainingAllowed, true),
    inArray(documents.bundesland, bundeslaender as readonly Bundesland[]),
    upToSeq === undefined ? undefined : lte(documents.seq, upToSeq),
  );

/** How much a job on these states would train on: its training-allowed documents and chunks. */
export async function countTrainingData(
  db: Db,
  bundeslaender: readonly string[],
  upToSeq?: number,
): Promise<{ documents: number; chunks: number }> {
  const [row] = await db
    .select({
      documents: count(),
      chunks: sql<number>`coalesce(sum(${documents.chunkCount}), 0)`.mapWith(Number),
    })
    .from(documents)
    .where(trainable(bundeslaender, upToSeq));
  return { documents: row?.documents ?? 0, chunks: row?.chunks ?? 0 };
}

/** How many training examples each label (document type) has on these states, most first. */
export async function trainingLabelCounts(
  db: Db,
  bundeslaender: readonly string[],
): Promise<{ label: string; count: number }[]> {
  const examples = sql<number>`coalesce(sum(${documents.chunkCount}), 0)`.mapWith(Number);
  const rows = await db
    .select({ label: documents.docType, count: examples })
    .from(documents)
    .where(trainable(bundeslaender))
    .groupBy(documents.docType);
  return rows
    .filter((row) => row.count > 0)
    .sort((a, b) => b.count - a.count || a.label.localeCompare(b.label));
}

/**
 * The training examples of a job on these states: every chunk of their training-allowed
 * documents, labelled with the document type. Ordered by content (hash, then chunk index), so the
 * same documents give the same sequence whatever order they were imported in.
 */
export async function trainingChunks(
  db: Db,
  bundeslaender: readonly string[],
  upToSeq?: number,
): Promise<{ text: string; label: string }[]> {
  return db
    .select({ text: chunks.text, label: documents.docType })
    .from(chunks)
    .innerJoin(documents, eq(chunks.documentId, documents.id))
    .where(trainable(bundeslaender, upToSeq))
    .orderBy(asc(documents.contentHash), asc(chunks.index));
}
