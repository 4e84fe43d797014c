import type { SystemStatus } from '../training/status.ts';
import { builder } from './builder.ts';
import { TrainingJobRef } from './refs.ts';

const TrainingSystemStatus = builder.objectRef<SystemStatus>('TrainingSystemStatus').implement({
  description: 'An overview of the training system.',
  fields: (t) => ({
    isTraining: t.exposeBoolean('isTraining', {
      description: 'Whether any job is PREPARING, TRAINING or VALIDATING.',
    }),
    activeJob: t.field({
      type: TrainingJobRef,
      nullable: true,
      description: 'The newest job that is PREPARING, TRAINING or VALIDATING.',
      resolve: (status) => status.activeJob,
    }),
    totalJobs: t.exposeInt('totalJobs'),
    completedJobs: t.exposeInt('completedJobs'),
    failedJobs: t.exposeInt('failedJobs'),
    queuedJobs: t.exposeInt('queuedJobs'),
    runningJobs: t.exposeInt('runningJobs', {
      description: 'Jobs PREPARING, TRAINING or VALIDATING.',
    }),
    modelVersions: t.exposeInt('modelVersions'),
    activeModels: t.exposeInt('activeModels', {
      description: 'Model types with an active version.',
    }),
  }),
});

builder.queryFields((t) => ({
  trainingStatus: t.field({
    type: TrainingSystemStatus,
    authScopes: { viewer: true },
    resolve: (_root, _args, ctx) => ctx.training.systemStatus(),
  }),
}));
