import { and, count, eq, inArray, lt, max, not, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { isUuid } from '../db/ids.ts';
import { decodeCursor, type Page, type PageArgs } from '../db/pagination.ts';
import { newestFirstPage, rowById, rowsByIds } from '../db/rows.ts';
import {
  type MetricsSnapshot,
  type ModelVersionRow,
  modelArtifacts,
  modelVersions,
} from '../db/schema.ts';
import { AppError, ErrorCode, notFound } from '../vocabulary/errors.ts';
import type { ActivationEvaluation } from '../vocabulary/evaluation.ts';
import type { ModelType } from '../vocabulary/training.ts';

/** `v1.0`, `v2.0`, …: the number counts per model type. */
export const versionLabel = (n: number) => `v${n}.0`;

/**
 * Serialises changes to the versions of one model type (numbering, activation) across
 * connections and servers; released at commit.
 */
export async function lockModelType(tx: Db, modelType: ModelType | string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`model_versions:${modelType}`}))`);
}

export const getModelVersion = (db: Db, id: string): Promise<ModelVersionRow | undefined> =>
  rowById(db, modelVersions, id);

export const getModelVersionsByIds = (db: Db, ids: readonly string[]): Promise<ModelVersionRow[]> =>
  rowsByIds(db, modelVersions, ids);

export type ModelVersionFilter = PageArgs & {
  modelType?: ModelType | null;
  activeOnly?: boolean | null;
};

export async function listModelVersions(
  db: Db,
  filter: ModelVersionFilter,
): Promise<Page<ModelVersionRow>> {
  const where: SQL[] = [];
  if (filter.after) where.push(lt(modelVersions.seq, decodeCursor(filter.after)));
  if (filter.modelType) where.push(eq(modelVersions.modelType, filter.modelType));
  if (filter.activeOnly) where.push(eq(modelVersions.isActive, true));
  return newestFirstPage(db, modelVersions, where, filter.first);
}

/** Deletes a version unless it is the active one of its type. */
export async function deleteModelVersion(db: Db, id: string): Promise<string> {
  if (isUuid(id)) {
    const [row] = await db
      .delete(modelVersions)
      .where(and(eq(modelVersions.id, id), not(modelVersions.isActive)))
      .returning({ id: modelVersions.id });
    if (row) return row.id;
  }
  const current = await getModelVersion(db, id);
  if (!current) throw notFound('model version', id);
  throw new AppError(
    ErrorCode.CONFLICT,
    `Cannot delete ${versionLabel(current.versionNumber)} of ${current.modelType}: it is the active version; activate another first`,
  );
}

export async function modelVersionsByJobIds(
  db: Db,
  jobIds: readonly string[],
): Promise<ModelVersionRow[]> {
  if (jobIds.length === 0) return [];
  return db
    .select()
    .from(modelVersions)
    .where(inArray(modelVersions.jobId, [...jobIds]));
}

export async function countModelVersions(db: Db): Promise<{ total: number; active: number }> {
  const [row] = await db
    .select({
      total: count(),
      active: sql<number>`count(*) filter (where ${modelVersions.isActive})`.mapWith(Number),
    })
    .from(modelVersions);
  return { total: row?.total ?? 0, active: row?.active ?? 0 };
}

export type NewModelVersion = {
  jobId: string;
  evaluation: ActivationEvaluation;
  modelType: ModelType;
  metrics: MetricsSnapshot;
  config: Record<string, unknown>;
  bundeslaender: string[];
  datasetStats: Record<string, number>;
  artifact: Uint8Array;
};

/**
 * Records the model a job produced, inactive, inside the caller's transaction, which holds the
 * lock of its type (lockModelType): the next version number of its type, so concurrent
 * completions never share one, with its artifact and the decision about it.
 */
export async function recordModelVersion(tx: Db, input: NewModelVersion): Promise<ModelVersionRow> {
  const [stats] = await tx
    .select({ last: max(modelVersions.versionNumber) })
    .from(modelVersions)
    .where(eq(modelVersions.modelType, input.modelType));
  const { artifact, ...fields } = input;
  const [row] = await tx
    .insert(modelVersions)
    .values({
      ...fields,
      versionNumber: (stats?.last ?? 0) + 1,
      isActive: false,
      artifactBytes: artifact.byteLength,
    })
    .returning();
  if (!row) throw new Error('model version insert returned no row');
  await tx.insert(modelArtifacts).values({ modelVersionId: row.id, data: artifact });
  return row;
}

/** The id of the active version of a type, if there is one (its artifact left unread). */
export async function activeVersionId(db: Db, modelType: ModelType): Promise<string | null> {
  const [row] = await db
    .select({ id: modelVersions.id })
    .from(modelVersions)
    .where(and(eq(modelVersions.modelType, modelType), eq(modelVersions.isActive, true)));
  return row?.id ?? null;
}

/** The artifact of the active version of a type, if there is one. */
export async function activeArtifact(
  db: Db,
  modelType: ModelType,
): Promise<{ version: ModelVersionRow; artifact: Uint8Array } | undefined> {
  const [row] = await db
    .select({ version: modelVersions, artifact: modelArtifacts.data })
    .from(modelVersions)
    .innerJoin(modelArtifacts, eq(modelArtifacts.modelVersionId, modelVersions.id))
    .where(and(eq(modelVersions.modelType, modelType), eq(modelVersions.isActive, true)));
  return row;
}
