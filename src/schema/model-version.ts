import { versionLabel } from '../training/model-versions.ts';
import { builder } from './builder.ts';
import { connectionOf, pageArgs } from './connections.ts';
import { ModelTypeEnum } from './enums.ts';
import { rowId } from './global-ids.ts';
import { ModelVersionRef, TrainingJobRef, TrainingMetricsRef } from './refs.ts';

const BYTES_PER_MB = 1024 * 1024;

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
    resolve: (_root, { id }, ctx) => ctx.training.activateModelVersion(rowId(id, 'ModelVersion')),
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
