import type { TrainingJobRow } from '../db/schema.ts';
import { describeLimit } from '../training/config-schema.ts';
import { HISTORY_WINDOW } from '../training/metrics.ts';
import { BUNDESLAND_CODES } from '../vocabulary/bundeslaender.ts';
import { badInput } from '../vocabulary/errors.ts';
import type { EvaluationReport } from '../vocabulary/evaluation.ts';
import { CONFIG_LIMITS } from '../vocabulary/training.ts';
import { withinArgument } from './argument-path.ts';
import { builder } from './builder.ts';
import { connectionOf, pageArgs } from './connections.ts';
import { ActivationPolicyEnum, ModelTypeEnum, TrainingStatusEnum } from './enums.ts';
import { rowId } from './global-ids.ts';
import { ModelVersionRef, TrainingJobRef, TrainingMetricsRef } from './refs.ts';
import { TrainingPlanRef } from './training-plan.ts';

const L = CONFIG_LIMITS;

const ClassMetrics = builder
  .objectRef<EvaluationReport['perClass'][number]>('ClassMetrics')
  .implement({
    description: 'How well one label is recognised on the validation split.',
    fields: (t) => ({
      label: t.exposeString('label'),
      precision: t.exposeFloat('precision'),
      recall: t.exposeFloat('recall'),
      f1Score: t.exposeFloat('f1Score'),
      support: t.exposeInt('support', { description: 'Validation examples of this label.' }),
    }),
  });

TrainingMetricsRef.implement({
  description: 'Evaluation metrics (macro-averaged over document types) and recent loss curves.',
  fields: (t) => ({
    precision: t.exposeFloat('precision', {
      description: 'Macro precision on the validation split, 0..1.',
    }),
    recall: t.exposeFloat('recall', { description: 'Macro recall on the validation split, 0..1.' }),
    f1Score: t.exposeFloat('f1Score', { description: 'Macro F1 on the validation split, 0..1.' }),
    accuracy: t.exposeFloat('accuracy', { description: 'Accuracy on the validation split, 0..1.' }),
    lossHistory: t.floatList({
      description: `Training loss of the most recent ${HISTORY_WINDOW} optimizer steps, oldest first.`,
      resolve: async (m, _args, ctx) =>
        m.lossHistory ??
        (m.jobId ? (await ctx.loaders.lossHistories.load(m.jobId)).lossHistory : []),
    }),
    macroF1: t.exposeFloat('macroF1', {
      nullable: true,
      description:
        'Macro-averaged F1 on the validation split, from the stored model run on it; null until the job has validated.',
    }),
    baselineAccuracy: t.exposeFloat('baselineAccuracy', {
      nullable: true,
      description:
        "Accuracy of always predicting the training split's most common label, on the same validation split.",
    }),
    baselineF1: t.exposeFloat('baselineF1', {
      nullable: true,
      description: 'Macro-F1 of that majority-class baseline on the same validation split.',
    }),
    perClass: t.field({
      type: [ClassMetrics],
      description: 'Precision, recall, F1 and support of each label; empty until validated.',
      resolve: (m) => m.perClass ?? [],
    }),
    confusionMatrix: t.field({
      type: t.listRef(t.listRef('Int')),
      nullable: true,
      description: 'Rows = true label, columns = predicted, in perClass order.',
      resolve: (m) => m.confusionMatrix ?? null,
    }),
    valLossHistory: t.floatList({
      description: `Validation loss of the most recent ${HISTORY_WINDOW} evaluations, oldest first.`,
      resolve: async (m, _args, ctx) =>
        m.valLossHistory ??
        (m.jobId ? (await ctx.loaders.lossHistories.load(m.jobId)).valLossHistory : []),
    }),
  }),
});

export const MetricPoint = builder
  .objectRef<{
    step: number;
    epoch: number;
    loss: number | null;
    valLoss: number | null;
    learningRate: number;
    recordedAt: Date;
  }>('MetricPoint')
  .implement({
    description:
      'One optimizer step: its training loss and learning rate, and the validation loss when an evaluation ended there.',
    fields: (t) => ({
      step: t.exposeInt('step', { description: 'Optimizer step, from 1.' }),
      epoch: t.exposeInt('epoch', { description: 'Epoch the step belongs to, from 1.' }),
      loss: t.exposeFloat('loss', { nullable: true, description: 'Training loss at this step.' }),
      valLoss: t.exposeFloat('valLoss', {
        nullable: true,
        description: 'Validation loss, on the steps where an evaluation ran.',
      }),
      learningRate: t.exposeFloat('learningRate', {
        description: 'Scheduled learning rate at this step.',
      }),
      timestamp: t.field({
        type: 'DateTime',
        resolve: (p) => p.recordedAt,
        description: 'When it was recorded.',
      }),
    }),
  });

// The config is stored as the job's own columns, so the job row is its source.
const TrainingConfig = builder.objectRef<TrainingJobRow>('TrainingConfig').implement({
  description: 'The configuration a job was created with (frozen).',
  fields: (t) => ({
    name: t.exposeString('name'),
    modelType: t.expose('modelType', { type: ModelTypeEnum }),
    bundeslaender: t.exposeStringList('bundeslaender', {
      description: 'State codes whose documents it trains on.',
    }),
    batchSize: t.exposeInt('batchSize'),
    learningRate: t.exposeFloat('learningRate', { description: 'Peak learning rate.' }),
    epochs: t.exposeInt('epochs'),
    warmupSteps: t.exposeInt('warmupSteps'),
    weightDecay: t.exposeFloat('weightDecay'),
    gradientAccumulation: t.exposeInt('gradientAccumulation'),
    mixedPrecision: t.exposeBoolean('mixedPrecision'),
    seed: t.exposeInt('seed', {
      description: 'Seed of the data split, shuffling and initialisation.',
    }),
    activation: t.expose('activation', { type: ActivationPolicyEnum }),
    defaultsApplied: t.exposeStringList('defaultsApplied', {
      description:
        'The fields whose value the trainer chose because the input left them out, e.g. ["learningRate", "warmupSteps"].',
    }),
  }),
});

export const TrainingConfigInput = builder.inputType('TrainingConfigInput', {
  description:
    'A new training job. Out-of-range values are refused with BAD_USER_INPUT naming the field.',
  fields: (t) => ({
    name: t.string({
      required: true,
      description: `Display name, ${L.name.min}..${L.name.max} characters.`,
    }),
    modelType: t.field({ type: ModelTypeEnum, defaultValue: 'ZEUGNIS', required: true }),
    bundeslaender: t.stringList({
      required: true,
      description: `1..16 German state codes: ${BUNDESLAND_CODES.join(' ')}.`,
    }),
    batchSize: t.int({
      defaultValue: L.batchSize.default,
      required: true,
      description: `Examples per batch. ${describeLimit('batchSize')}`,
    }),
    learningRate: t.float({
      description: `Peak learning rate. ${describeLimit('learningRate')} Left out: the trainer's recommended value for the run (config.defaultsApplied says so).`,
    }),
    epochs: t.int({
      defaultValue: L.epochs.default,
      required: true,
      description: `Passes over the training split. ${describeLimit('epochs')}`,
    }),
    warmupSteps: t.int({
      description: `Optimizer steps of linear warm-up. ${describeLimit('warmupSteps')} Left out: warmupRatio if given, else the trainer's recommendation.`,
    }),
    warmupRatio: t.float({
      description: `Warm-up as a share of the run's optimizer steps. ${describeLimit('warmupRatio')} Not together with warmupSteps (BAD_USER_INPUT).`,
    }),
    weightDecay: t.float({
      defaultValue: L.weightDecay.default,
      required: true,
      description: `Decoupled (AdamW) weight decay. ${describeLimit('weightDecay')}`,
    }),
    gradientAccumulation: t.int({
      defaultValue: L.gradientAccumulation.default,
      required: true,
      description: `Batches per optimizer step. ${describeLimit('gradientAccumulation')}`,
    }),
    mixedPrecision: t.boolean({
      defaultValue: true,
      required: true,
      description: 'Request fp16 mixed precision (recorded; the CPU trainer trains in fp32).',
    }),
    seed: t.int({
      defaultValue: L.seed.default,
      required: true,
      description: `Random seed: same seed and data, same model. ${describeLimit('seed')}`,
    }),
    activation: t.field({
      type: ActivationPolicyEnum,
      defaultValue: 'IF_BETTER',
      required: true,
      description: 'Whether the version it produces becomes active (see ActivationPolicy).',
    }),
  }),
});

TrainingJobRef.implement({
  description: 'A training job: its configuration, status, live progress and metrics.',
  fields: (t) => ({
    name: t.exposeString('name'),
    modelType: t.expose('modelType', { type: ModelTypeEnum }),
    status: t.expose('status', { type: TrainingStatusEnum }),
    progress: t.exposeFloat('progress', { description: 'Percent done, 0..100.' }),
    currentEpoch: t.exposeInt('currentEpoch'),
    totalEpochs: t.exposeInt('epochs'),
    currentStep: t.exposeInt('currentStep', { description: 'Optimizer steps done.' }),
    totalSteps: t.exposeInt('totalSteps', {
      description: 'Optimizer steps in all; known once the data is prepared.',
    }),
    loss: t.exposeFloat('loss', {
      nullable: true,
      description: 'Training loss at the latest step.',
    }),
    valLoss: t.exposeFloat('valLoss', {
      nullable: true,
      description: 'Validation loss of the latest evaluation.',
    }),
    learningRate: t.exposeFloat('currentLearningRate', {
      description: 'The current (scheduled) learning rate.',
    }),
    documentsProcessed: t.exposeInt('documentsProcessed', {
      description:
        'Training documents worked through: totalDocuments times the share of optimizer steps done.',
    }),
    totalDocuments: t.exposeInt('totalDocuments', {
      description:
        'Training-allowed documents of the chosen states, fixed when the job is first prepared.',
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    estimatedCompletion: t.expose('estimatedCompletion', {
      type: 'DateTime',
      nullable: true,
      description: 'From the measured step rate.',
    }),
    completedAt: t.expose('completedAt', { type: 'DateTime', nullable: true }),
    errorMessage: t.exposeString('errorMessage', { nullable: true }),
    metrics: t.field({
      type: TrainingMetricsRef,
      resolve: (job) => ({
        precision: job.precision,
        recall: job.recall,
        f1Score: job.f1Score,
        accuracy: job.accuracy,
        jobId: job.id,
        ...job.evaluationReport,
      }),
    }),
    config: t.field({ type: TrainingConfig, resolve: (job) => job }),
    plan: t.field({
      type: TrainingPlanRef,
      nullable: true,
      description: 'The plan computed when the job was created (null for jobs made before plans).',
      resolve: (job) => job.plan,
    }),
    history: t.field({
      type: [MetricPoint],
      description: 'The last metric points, oldest first.',
      args: {
        last: t.arg.int({
          defaultValue: HISTORY_WINDOW,
          required: true,
          description: 'How many, 0..1000.',
        }),
      },
      resolve: (job, { last }, ctx) => {
        if (last < 0 || last > 1000) throw badInput('last', 'last must be between 0 and 1000');
        return ctx.loaders.history(last).load(job.id);
      },
    }),
    queuePosition: t.int({
      nullable: true,
      description: 'Place in the queue (1 = next to start) while QUEUED; null otherwise.',
      resolve: (job, _args, ctx) =>
        job.status === 'QUEUED' ? ctx.loaders.queuePosition.load(job.id) : null,
    }),
    modelVersion: t.field({
      type: ModelVersionRef,
      nullable: true,
      description: 'The model version this job produced, once it completed.',
      resolve: (job, _args, ctx) => ctx.loaders.modelVersionByJob.load(job.id),
    }),
  }),
});

const TrainingJobConnection = builder.connectionObject({
  type: TrainingJobRef,
  name: 'TrainingJobConnection',
  description: 'A page of training jobs, newest first.',
});

builder.queryFields((t) => ({
  trainingJobs: t.field({
    type: TrainingJobConnection,
    authScopes: { viewer: true },
    description: 'Training jobs, newest first (Relay connection).',
    args: {
      ...pageArgs,
      status: t.arg({ type: [TrainingStatusEnum], description: 'Only jobs in these statuses.' }),
      modelType: t.arg({ type: ModelTypeEnum }),
    },
    resolve: (_root, args, ctx) => connectionOf(args, ctx, ctx.training.listJobs),
  }),
  trainingPlan: t.field({
    type: TrainingPlanRef,
    authScopes: { viewer: true },
    description:
      'What createTrainingJob would do with this input, on the current data: creates nothing. Refuses what createTrainingJob refuses.',
    args: { input: t.arg({ type: TrainingConfigInput, required: true }) },
    resolve: (_root, { input }, ctx) => withinArgument('input', () => ctx.training.planJob(input)),
  }),
  trainingJob: t.field({
    type: TrainingJobRef,
    nullable: true,
    authScopes: { viewer: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) =>
      (await ctx.training.getJob(rowId(id, 'TrainingJob'))) ?? null,
  }),
}));

builder.mutationFields((t) => ({
  createTrainingJob: t.field({
    type: TrainingJobRef,
    authScopes: { admin: true },
    description:
      'Queues a new job (status QUEUED) with its plan; the runner starts it when a slot is free. States without training-allowed documents: BAD_USER_INPUT on input.bundeslaender.',
    args: { input: t.arg({ type: TrainingConfigInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      withinArgument('input', () => ctx.training.createJob(input)),
  }),
  deleteTrainingJob: t.id({
    authScopes: { admin: true },
    description:
      'Deletes a job and its metric history; not while PREPARING, TRAINING or VALIDATING (CONFLICT). Returns the deleted ID.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      await ctx.training.deleteJob(rowId(id, 'TrainingJob'));
      return id;
    },
  }),
}));

/** A state-machine action on one job, named as the API names it. */
const jobTransition = (
  name: 'pauseTrainingJob' | 'resumeTrainingJob' | 'cancelTrainingJob',
  description: string,
  run: 'pauseJob' | 'resumeJob' | 'cancelJob',
) =>
  builder.mutationField(name, (t) =>
    t.field({
      type: TrainingJobRef,
      authScopes: { admin: true },
      description,
      args: { id: t.arg.id({ required: true }) },
      resolve: (_root, { id }, ctx) => ctx.training[run](rowId(id, 'TrainingJob')),
    }),
  );

jobTransition(
  'pauseTrainingJob',
  'QUEUED, PREPARING, TRAINING or VALIDATING → PAUSED; the checkpoint is kept.',
  'pauseJob',
);
jobTransition(
  'resumeTrainingJob',
  'PAUSED → QUEUED; training continues from its checkpoint.',
  'resumeJob',
);
jobTransition('cancelTrainingJob', 'Any non-terminal status → CANCELLED.', 'cancelJob');
