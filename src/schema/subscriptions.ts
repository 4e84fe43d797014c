import { isJobDeleted } from '../training/progress-feed.ts';
import type { TrainingProgress } from '../training/progress-stream.ts';
import { notFound } from '../vocabulary/errors.ts';
import { builder } from './builder.ts';
import { rowId } from './global-ids.ts';
import { TrainingJobRef } from './refs.ts';
import { MetricPoint } from './training-job.ts';

const TrainingProgressRef = builder.objectRef<TrainingProgress>('TrainingProgress').implement({
  description: 'One update of a watched training job.',
  fields: (t) => ({
    job: t.field({
      type: TrainingJobRef,
      description: 'The job as of this update (lets client caches update the entity).',
      resolve: (update) => update.job,
    }),
    elapsedTimeMs: t.exposeInt('elapsedTimeMs', {
      description: 'Since the job started, until it ended; 0 before it started.',
    }),
    estimatedRemainingMs: t.exposeInt('estimatedRemainingMs', {
      nullable: true,
      description: 'Until the estimated completion; null while there is no estimate.',
    }),
    newPoints: t.field({
      type: [MetricPoint],
      description:
        'Metric points recorded since the previous update, oldest first; in the first update, the stored points after `afterStep` (none without it).',
      resolve: (update) => update.newPoints,
    }),
  }),
});

builder.subscriptionFields((t) => ({
  trainingProgress: t.field({
    type: TrainingProgressRef,
    authScopes: { viewer: true },
    description:
      'The first update at once with the current state; then one on every change (at most a few per second, every metric point carried once); completes after the job reaches COMPLETED, FAILED or CANCELLED. If the job is deleted, a last result with the error NOT_FOUND, then the end.',
    args: {
      jobId: t.arg.id({ required: true }),
      afterStep: t.arg.int({
        description:
          'Replay the stored metric points after this step in the first update (a reconnecting client passes the last step it has).',
      }),
    },
    // The request's signal ends the stream if the client leaves before the transport noticed.
    subscribe: (_root, { jobId, afterStep }, ctx) =>
      ctx.training.watchProgress(rowId(jobId, 'TrainingJob', 'jobId'), {
        afterStep,
        signal: ctx.request.signal,
      }),
    resolve: (update, _args, ctx) => {
      if (isJobDeleted(update)) throw notFound('training job', update.jobId);
      // Fields beyond the snapshot (metrics histories, history) must see this update's data.
      ctx.loaders.clear();
      return update;
    },
  }),
}));
