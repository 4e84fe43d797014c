import type { ModelActivationRow } from '../db/schema.ts';
import { versionLabel } from '../training/model-versions.ts';
import type { ActivationEvaluation } from '../vocabulary/evaluation.ts';
import { builder } from './builder.ts';
import { connectionOf, pageArgs } from './connections.ts';
import type { GraphQLContext } from './context.ts';
import { ModelTypeEnum } from './enums.ts';
import { rowId } from './global-ids.ts';
import { ModelVersionRef, TrainingJobRef, TrainingMetricsRef } from './refs.ts';

const BYTES_PER_MB = 1024 * 1024;

/** Who the activation history names: the caller's role (tokens carry no names). */
const actor = (ctx: GraphQLContext) => ctx.auth.role ?? 'unknown';

/** A version by id, or null once it was deleted (history keeps the ids of deleted versions). */
async function versionOrNull(id: string | null, ctx: GraphQLContext) {
  if (!id) return null;
  const [version] = await ModelVersionRef.getDataloader(ctx).loadMany([id]);
  return version instanceof Error ? null : (version ?? null);
}

const ActivationEvaluationRef = builder
  .objectRef<ActivationEvaluation>('ActivationEvaluation')
  .implement({
    description: 'The champion/challenger decision about a version, made when its job completed.',
    fields: (t) => ({
      decision: t.exposeString('decision', {
        description: 'ACTIVATED | KEPT_CHAMPION | BELOW_BASELINE | MANUAL',
      }),
      reason: t.exposeString('reason'),
      challengerF1: t.exposeFloat('challengerF1', {
        description: "This version's macro-F1 on its job's validation split.",
      }),
      championVersion: t.field({
        type: ModelVersionRef,
        nullable: true,
        description: 'The version active when this one was judged (null if none, or deleted).',
        resolve: (e, _args, ctx) => versionOrNull(e.championVersionId, ctx),
      }),
      championF1: t.exposeFloat('championF1', {
        nullable: true,
        description:
          "That version's macro-F1 on the same split (null: none, or not scorable here).",
      }),
      baselineF1: t.exposeFloat('baselineF1', {
        description: 'Macro-F1 of the majority-class baseline on the same split.',
      }),
    }),
  });

const ModelActivationRef = builder.objectRef<ModelActivationRow>('ModelActivation').implement({
  description: 'One change of the active version of a model type.',
  fields: (t) => ({
    modelType: t.expose('modelType', { type: ModelTypeEnum }),
    version: t.field({
      type: ModelVersionRef,
      nullable: true,
      description: 'The version that became active (null once deleted).',
      resolve: (a, _args, ctx) => versionOrNull(a.versionId, ctx),
    }),
    previous: t.field({
      type: ModelVersionRef,
      nullable: true,
      description: 'The version active before (null: none, or deleted).',
      resolve: (a, _args, ctx) => versionOrNull(a.previousVersionId, ctx),
    }),
    at: t.expose('at', { type: 'DateTime' }),
    by: t.exposeString('by', { description: 'The role that activated it, or "system".' }),
    reason: t.exposeString('reason', {
      description: 'AUTO_ALWAYS | AUTO_IF_BETTER | MANUAL | ROLLBACK',
    }),
  }),
});

const ModelActivationConnection = builder.connectionObject({
  type: ModelActivationRef,
  name: 'ModelActivationConnection',
  description: 'Activations, newest first.',
});

ModelVersionRef.implement({
  description: 'A trained model: one per completed job, numbered per model type.',
  fields: (t) => ({
    job: t.field({
      type: TrainingJobRef,
      nullable: true,
      description: 'The job that trained it; null once that job was deleted.',
      resolve: (version) => version.jobId,
    }),
    version: t.string({
      description: '"v1.0", "v2.0", … counted per model type.',
      resolve: (version) => versionLabel(version.versionNumber),
    }),
    modelType: t.expose('modelType', { type: ModelTypeEnum }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    metrics: t.field({ type: TrainingMetricsRef, resolve: (version) => version.metrics }),
    isActive: t.exposeBoolean('isActive', {
      description: 'Whether it serves its model type; at most one per type.',
    }),
    sizeMb: t.float({
      description: 'Size of the stored artifact in MiB.',
      resolve: (version) => version.artifactBytes / BYTES_PER_MB,
    }),
    bundeslaender: t.exposeStringList('bundeslaender'),
    evaluation: t.field({
      type: ActivationEvaluationRef,
      nullable: true,
      description:
        'How it was judged for activation when its job completed; null for versions made before.',
      resolve: (version) => version.evaluation,
    }),
  }),
});

const ModelVersionConnection = builder.connectionObject({
  type: ModelVersionRef,
  name: 'ModelVersionConnection',
  description: 'A page of model versions, newest first.',
});

builder.queryFields((t) => ({
  modelVersions: t.field({
    type: ModelVersionConnection,
    authScopes: { viewer: true },
    description: 'Model versions, newest first (Relay connection).',
    args: {
      ...pageArgs,
      modelType: t.arg({ type: ModelTypeEnum }),
      activeOnly: t.arg.boolean({ defaultValue: false }),
    },
    resolve: (_root, args, ctx) => connectionOf(args, ctx, ctx.training.listModelVersions),
  }),
  modelActivations: t.field({
    type: ModelActivationConnection,
    authScopes: { viewer: true },
    description: 'Every activation (automatic, manual, rollback), newest first.',
    args: {
      ...pageArgs,
      modelType: t.arg({ type: ModelTypeEnum }),
    },
    resolve: (_root, args, ctx) => connectionOf(args, ctx, ctx.training.listActivations),
  }),
  modelVersion: t.field({
    type: ModelVersionRef,
    nullable: true,
    authScopes: { viewer: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) =>
      (await ctx.training.getModelVersion(rowId(id, 'ModelVersion'))) ?? null,
  }),
}));

builder.mutationFields((t) => ({
  activateModelVersion: t.field({
    type: ModelVersionRef,
    authScopes: { admin: true },
    description:
      'Makes this version the one that serves its model type; the others of the type are deactivated.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) =>
      ctx.training.activateModelVersion(rowId(id, 'ModelVersion'), actor(ctx)),
  }),
  rollbackModel: t.field({
    type: ModelVersionRef,
    authScopes: { admin: true },
    description:
      'Re-activates the version active before the current one of this type. NOT_FOUND: no earlier activation; CONFLICT: that version was deleted.',
    args: { modelType: t.arg({ type: ModelTypeEnum, required: true }) },
    resolve: (_root, { modelType }, ctx) => ctx.training.rollbackModel(modelType, actor(ctx)),
  }),
  deleteModelVersion: t.id({
    authScopes: { admin: true },
    description:
      'Deletes a version and its artifact; not the active one (CONFLICT). Returns the deleted ID.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      await ctx.training.deleteModelVersion(rowId(id, 'ModelVersion'));
      return id;
    },
  }),
}));
