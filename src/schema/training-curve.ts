import { DEFAULT_MAX_PAGE_SIZE } from '../config.ts';
import { CURVE_MAX_POINTS } from '../training/curve.ts';
import { builder } from './builder.ts';
import { connectionOf } from './connections.ts';
import { TrainingJobRef } from './refs.ts';
import { MetricPoint } from './training-job.ts';

const MetricPointConnection = builder.connectionObject({
  type: MetricPoint,
  name: 'MetricPointConnection',
  description: 'A page of metric points, oldest first.',
});

builder.objectFields(TrainingJobRef, (t) => ({
  curve: t.field({
    type: [MetricPoint],
    description:
      'At most maxPoints points that keep the shape of the whole run (or of fromStep..toStep), ' +
      'oldest first: the first and last point, every validation point, and the lowest- and ' +
      'highest-loss point of each bucket of steps. When the validation points alone exceed ' +
      'maxPoints - 2 they are bucketed too (their lowest and highest valLoss kept per bucket).',
    args: {
      maxPoints: t.arg.int({
        defaultValue: CURVE_MAX_POINTS.default,
        required: true,
        description: `${CURVE_MAX_POINTS.min}..${CURVE_MAX_POINTS.max}.`,
      }),
      fromStep: t.arg.int({ description: 'First step of the range (inclusive).' }),
      toStep: t.arg.int({ description: 'Last step of the range (inclusive).' }),
    },
    resolve: (job, args, ctx) => ctx.training.curve(job.id, args),
  }),
  metricPoints: t.field({
    type: MetricPointConnection,
    description: 'Every metric point, oldest first (Relay connection).',
    args: {
      first: t.arg.int({
        defaultValue: DEFAULT_MAX_PAGE_SIZE,
        description: `Page size, 0..${DEFAULT_MAX_PAGE_SIZE} (MAX_PAGE_SIZE).`,
      }),
      after: t.arg.string({ description: 'Cursor of the last edge of the previous page.' }),
    },
    resolve: (job, args, ctx) =>
      connectionOf(
        args,
        ctx,
        (page) => ctx.training.listMetricPoints(job.id, page),
        (point) => point.step,
      ),
  }),
}));
