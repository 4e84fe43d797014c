import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  real,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { BUNDESLAND_CODES } from '../vocabulary/bundeslaender.ts';
import type {
  ActivationEvaluation,
  EvaluationReport,
  TrainingPlan,
} from '../vocabulary/evaluation.ts';
import {
  ACTIVATION_POLICIES,
  ACTIVATION_REASONS,
  type ActivationPolicy,
  type ActivationReason,
  CONFIG_LIMITS as L,
  MODEL_TYPES,
  type ModelType,
  TRAINING_STATUSES,
  type TrainingStatus,
} from '../vocabulary/training.ts';
import { bytea, inList, tz } from './columns.ts';

const between = (column: string, limits: { min: number; max: number }) =>
  sql.raw(`"${column}" BETWEEN ${limits.min} AND ${limits.max}`);

export const trainingJobs = pgTable(
  'training_jobs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** Insertion order: the stable key for newest-first pagination. */
    seq: bigint('seq', { mode: 'number' }).generatedAlwaysAsIdentity().notNull(),
    name: text('name').notNull(),
    modelType: text('model_type').$type<ModelType>().notNull(),
    status: text('status').$type<TrainingStatus>().notNull().default('QUEUED'),
    // frozen configuration
    bundeslaender: text('bundeslaender').array().notNull(),
    batchSize: integer('batch_size').notNull(),
    learningRate: doublePrecision('learning_rate').notNull(),
    epochs: integer('epochs').notNull(),
    warmupSteps: integer('warmup_steps').notNull(),
    weightDecay: doublePrecision('weight_decay').notNull(),
    gradientAccumulation: integer('gradient_accumulation').notNull(),
    mixedPrecision: boolean('mixed_precision').notNull(),
    seed: integer('seed').notNull(),
    activation: text('activation').$type<ActivationPolicy>().notNull().default('IF_BETTER'),
    /** The config fields whose value the trainer chose (left out at creation). */
    defaultsApplied: text('defaults_applied').array().notNull().default(sql`'{}'::text[]`),
    /** What the job was expected to do, computed at creation. */
    plan: jsonb('plan').$type<TrainingPlan>(),
    // progress
    progress: real('progress').notNull().default(0),
    currentEpoch: integer('current_epoch').notNull().default(0),
    currentStep: integer('current_step').notNull().default(0),
    totalSteps: integer('total_steps').notNull().default(0),
    loss: doublePrecision('loss'),
    valLoss: doublePrecision('val_loss'),
    currentLearningRate: doublePrecision('current_learning_rate').notNull().default(0),
    documentsProcessed: integer('documents_processed').notNull().default(0),
    totalDocuments: integer('total_documents').notNull().default(0),
    precision: doublePrecision('precision').notNull().default(0),
    recall: doublePrecision('recall').notNull().default(0),
    f1Score: doublePrecision('f1_score').notNull().default(0),
    accuracy: doublePrecision('accuracy').notNull().default(0),
    errorMessage: text('error_message'),
    /** Per-class metrics and the baseline of the final evaluation, once completed. */
    evaluationReport: jsonb('evaluation_report').$type<EvaluationReport>(),
    // times
    createdAt: tz('created_at').notNull().defaultNow(),
    updatedAt: tz('updated_at').notNull().defaultNow(),
    startedAt: tz('started_at'),
    estimatedCompletion: tz('estimated_completion'),
    completedAt: tz('completed_at'),
    // runner lease: which process runs the job, until when it must renew
    leaseOwner: text('lease_owner'),
    leaseExpiresAt: tz('lease_expires_at'),
    /** The newest document the job trains on, fixed when first prepared: resumes see the same data. */
    datasetCutoff: bigint('dataset_cutoff', { mode: 'number' }),
  },
  (t) => [
    uniqueIndex('training_jobs_seq_uq').on(t.seq),
    index('training_jobs_status_idx').on(t.status, t.createdAt),
    check('training_jobs_status_check', sql`${t.status} IN (${inList(TRAINING_STATUSES)})`),
    check('training_jobs_model_type_check', sql`${t.modelType} IN (${inList(MODEL_TYPES)})`),
    check(
      'training_jobs_activation_check',
      sql`${t.activation} IN (${inList(ACTIVATION_POLICIES)})`,
    ),
    check(
      'training_jobs_name_check',
      sql`char_length(${t.name}) BETWEEN ${sql.raw(String(L.name.min))} AND ${sql.raw(String(L.name.max))}`,
    ),
    check(
      'training_jobs_bundeslaender_check',
      sql`cardinality(${t.bundeslaender}) BETWEEN 1 AND 16 AND ${t.bundeslaender} <@ ARRAY[${inList(BUNDESLAND_CODES)}]::text[]`,
    ),
    check('training_jobs_batch_size_check', between('batch_size', L.batchSize)),
    check('training_jobs_learning_rate_check', between('learning_rate', L.learningRate)),
    check('training_jobs_epochs_check', between('epochs', L.epochs)),
    check('training_jobs_warmup_steps_check', between('warmup_steps', L.warmupSteps)),
    check('training_jobs_weight_decay_check', between('weight_decay', L.weightDecay)),
    check(
      'training_jobs_gradient_accumulation_check',
      between('gradient_accumulation', L.gradientAccumulation),
    ),
    check('training_jobs_seed_check', between('seed', L.seed)),
    check('training_jobs_progress_check', sql`${t.progress} BETWEEN 0 AND 100`),
  ],
);

export const metricPoints = pgTable(
  'metric_points',
  {
    jobId: uuid('job_id')
      .notNull()
      .references(() => trainingJobs.id, { onDelete: 'cascade' }),
    step: integer('step').notNull(),
    epoch: integer('epoch').notNull(),
    loss: doublePrecision('loss'),
    valLoss: doublePrecision('val_loss'),
    learningRate: doublePrecision('learning_rate').notNull(),
    recordedAt: tz('recorded_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.jobId, t.step] }),
    // `curve` finds a range's validation points without reading the others
    index('metric_points_validation_idx').on(t.jobId, t.step).where(sql`${t.valLoss} is not null`),
  ],
);

/**
 * What `curve` needs of each block of 32 consecutive steps of a job (block = step >> 5), so that
 * a long run is read as blocks instead of points. Kept by a trigger on `metric_points` in the
 * statement that writes the points (drizzle/0005_metric_blocks.sql), so it never disagrees with
 * them. `validations` counts its points with a valLoss. Each extreme is `{value, step}`: the lowest with its earliest step, the highest with its
 * latest, null when the block has no such value.
 */
export const metricBlocks = pgTable(
  'metric_blocks',
  {
    jobId: uuid('job_id')
      .notNull()
      .references(() => trainingJobs.id, { onDelete: 'cascade' }),
    block: integer('block').notNull(),
    firstStep: integer('first_step').notNull(),
    lastStep: integer('last_step').notNull(),
    validations: integer('validations').notNull(),
    minLoss: doublePrecision('min_loss').array(),
    maxLoss: doublePrecision('max_loss').array(),
    minValLoss: doublePrecision('min_val_loss').array(),
    maxValLoss: doublePrecision('max_val_loss').array(),
  },
  (t) => [primaryKey({ columns: [t.jobId, t.block] })],
);

/** Metrics frozen into a model version when its job completed. */
export type MetricsSnapshot = {
  precision: number;
  recall: number;
  f1Score: number;
  accuracy: number;
  lossHistory: number[];
  valLossHistory: number[];
  // the report: since issue 13
} & Partial<EvaluationReport>;

export const modelVersions = pgTable(
  'model_versions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    seq: bigint('seq', { mode: 'number' }).generatedAlwaysAsIdentity().notNull(),
    jobId: uuid('job_id').references(() => trainingJobs.id, { onDelete: 'set null' }),
    modelType: text('model_type').$type<ModelType>().notNull(),
    versionNumber: integer('version_number').notNull(),
    isActive: boolean('is_active').notNull().default(false),
    metrics: jsonb('metrics').$type<MetricsSnapshot>().notNull(),
    config: jsonb('config').$type<Record<string, unknown>>().notNull(),
    bundeslaender: text('bundeslaender').array().notNull(),
    datasetStats: jsonb('dataset_stats').$type<Record<string, number>>().notNull().default({}),
    artifactBytes: integer('artifact_bytes').notNull().default(0),
    /** The champion/challenger decision made when it was recorded (null before issue 13). */
    evaluation: jsonb('evaluation').$type<ActivationEvaluation>(),
    createdAt: tz('created_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('model_versions_type_version_uq').on(t.modelType, t.versionNumber),
    uniqueIndex('model_versions_one_active_per_type_uq').on(t.modelType).where(sql`${t.isActive}`),
    uniqueIndex('model_versions_job_uq').on(t.jobId),
    uniqueIndex('model_versions_seq_uq').on(t.seq),
    check('model_versions_model_type_check', sql`${t.modelType} IN (${inList(MODEL_TYPES)})`),
    check('model_versions_version_check', sql`${t.versionNumber} >= 1`),
  ],
);

/** The latest checkpoint of a job: where a pause, a restart or another process resumes from. */
/**
 * Every change of the active version of a model type, newest last. Version ids are kept without
 * a foreign key: a deleted version stays in the history (resolved as null), and a rollback to
 * it can say that it was deleted.
 */
export const modelActivations = pgTable(
  'model_activations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    seq: bigint('seq', { mode: 'number' }).generatedAlwaysAsIdentity().notNull(),
    modelType: text('model_type').$type<ModelType>().notNull(),
    versionId: uuid('version_id').notNull(),
    previousVersionId: uuid('previous_version_id'),
    at: tz('at').notNull().defaultNow(),
    by: text('by').notNull(),
    reason: text('reason').$type<ActivationReason>().notNull(),
  },
  (t) => [
    uniqueIndex('model_activations_seq_uq').on(t.seq),
    index('model_activations_type_seq_idx').on(t.modelType, t.seq),
    check('model_activations_reason_check', sql`${t.reason} IN (${inList(ACTIVATION_REASONS)})`),
  ],
);

export const checkpoints = pgTable('checkpoints', {
  jobId: uuid('job_id')
    .primaryKey()
    .references(() => trainingJobs.id, { onDelete: 'cascade' }),
  step: integer('step').notNull(),
  epoch: integer('epoch').notNull(),
  state: bytea('state').notNull(),
  createdAt: tz('created_at').notNull().defaultNow(),
});

/** The trained model of a version, in the database so that every process can serve it. */
export const modelArtifacts = pgTable('model_artifacts', {
  modelVersionId: uuid('model_version_id')
    .primaryKey()
    .references(() => modelVersions.id, { onDelete: 'cascade' }),
  data: bytea('data').notNull(),
});

export type TrainingJobRow = typeof trainingJobs.$inferSelect;
export type MetricPointRow = typeof metricPoints.$inferSelect;
export type ModelVersionRow = typeof modelVersions.$inferSelect;
export type ModelActivationRow = typeof modelActivations.$inferSelect;
