import { and, desc, eq, lt, ne, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { decodeCursor, type Page, type PageArgs } from '../db/pagination.ts';
import { newestFirstPage } from '../db/rows.ts';
import {
  type ModelActivationRow,
  type ModelVersionRow,
  modelActivations,
  modelVersions,
} from '../db/schema.ts';
import { AppError, ErrorCode, notFound } from '../vocabulary/errors.ts';
import type { ActivationReason, ModelType } from '../vocabulary/training.ts';
import { getModelVersion, lockModelType } from './model-versions.ts';

/** Who activated a version: the caller's role (and token name), or "system". */
export type ActivatedBy = { by: string; reason: ActivationReason };

export const SYSTEM = 'system';

/**
 * Makes `target` the active version of its type and records the change, inside the caller's
 * transaction, which holds the type's lock (lockModelType). A version already active stays so,
 * with no new history entry.
 */
export async function switchActive(
  tx: Db,
  target: ModelVersionRow,
  { by, reason }: ActivatedBy,
): Promise<ModelVersionRow> {
  const [current] = await tx
    .select({ id: modelVersions.id })
    .from(modelVersions)
    .where(and(eq(modelVersions.modelType, target.modelType), eq(modelVersions.isActive, true)));
  if (current?.id === target.id) return target;
  await tx
    .update(modelVersions)
    .set({ isActive: false })
    .where(
      and(
        eq(modelVersions.modelType, target.modelType),
        eq(modelVersions.isActive, true),
        ne(modelVersions.id, target.id),
      ),
    );
  const [row] = await tx
    .update(modelVersions)
    .set({ isActive: true })
    .where(eq(modelVersions.id, target.id))
    .returning();
  if (!row) throw new AppError(ErrorCode.NOT_FOUND, `No model version with id ${target.id}`);
  await tx.insert(modelActivations).values({
    modelType: target.modelType,
    versionId: target.id,
    previousVersionId: current?.id ?? null,
    by,
    reason,
  });
  return row;
}

/** Makes a version the active one of its type by hand; recorded in the activation history. */
export async function activateModelVersion(
  db: Db,
  id: string,
  by: string,
): Promise<ModelVersionRow> {
  const target = await getModelVersion(db, id);
  if (!target) throw notFound('model version', id);
  return db.transaction(async (tx) => {
    await lockModelType(tx, target.modelType);
    return switchActive(tx, target, { by, reason: 'MANUAL' });
  });
}

export type ActivationFilter = PageArgs & { modelType?: ModelType | null };

/** The activation history, newest first. */
export async function listActivations(
  db: Db,
  filter: ActivationFilter,
): Promise<Page<ModelActivationRow>> {
  const where: SQL[] = [];
  if (filter.after) where.push(lt(modelActivations.seq, decodeCursor(filter.after)));
  if (filter.modelType) where.push(eq(modelActivations.modelType, filter.modelType));
  return newestFirstPage(db, modelActivations, where, filter.first);
}

/**
 * Re-activates the version that was active before the current one of `modelType`: NOT_FOUND when
 * there was none, CONFLICT when it has been deleted since.
 */
export async function rollbackModel(
  db: Db,
  modelType: ModelType,
  by: string,
): Promise<ModelVersionRow> {
  return db.transaction(async (tx) => {
    await lockModelType(tx, modelType);
    const [latest] = await tx
      .select()
      .from(modelActivations)
      .where(eq(modelActivations.modelType, modelType))
      .orderBy(desc(modelActivations.seq))
      .limit(1);
    if (!latest?.previousVersionId) {
      throw new AppError(
        ErrorCode.NOT_FOUND,
        `No earlier activation of ${modelType} to roll back to`,
      );
    }
    const previous = await getModelVersion(tx, latest.previousVersionId);
    if (!previous) {
      throw new AppError(
        ErrorCode.CONFLICT,
        `The version of ${modelType} active before the current one (${latest.previousVersionId}) has been deleted`,
      );
    }
    return switchActive(tx, previous, { by, reason: 'ROLLBACK' });
  });
}
