import { and, eq, isNull, sql } from 'drizzle-orm';
import { countTrainingData, trainingChunks } from '../../dataset/stats.ts';
import type { Db } from '../../db/client.ts';
import {
  documents,
  type ModelVersionRow,
  type TrainingJobRow,
  trainingJobs,
} from '../../db/schema.ts';
import { type AppEvents, announceJob, jobTopic } from '../../events/topics.ts';
import type { Logger } from '../../logger.ts';
import { AppError, ErrorCode } from '../../vocabulary/errors.ts';
import { SYSTEM, switchActive } from '../activations.ts';
import { type Champion, judge } from '../champion-challenger.ts';
import { evaluationReport, scorePredictions } from '../evaluation.ts';
import { getJob, transitionJob } from '../jobs.ts';
import { lossHistoriesByJob } from '../metrics.ts';
import {
  activeArtifact,
  activeVersionId,
  lockModelType,
  recordModelVersion,
  versionLabel,
} from '../model-versions.ts';
import { type ModelPredictor, PredictMissingError } from '../predict/model-predictor.ts';
import type { ServedModel } from '../predict/pool.ts';
import { DEFAULT_VALIDATION_FRACTION } from '../trainers/builtin/run.ts';
import { stratifiedSplit } from '../trainers/builtin/split.ts';
import type { Example, TrainerEvent } from '../trainers/builtin/types.ts';
import type { Trainer, TrainerSession } from '../trainers/port.ts';
import { isTerminal } from '../transitions.ts';
import {
  deleteCheckpoint,
  dropPointsAfter,
  loadCheckpoint,
  pointAt,
  saveCheckpoint,
} from './checkpoints.ts';
import { ownedRunning, renewLease, type TakenJob } from './lease.ts';
import { JobLostError, metricsFields, ProgressRecorder } from './progress.ts';

export type RunSettings = {
  owner: string;
  leaseMs: number;
  flushIntervalMs: number;
  checkpointIntervalMs: number;
};

export type RunDeps = {
  db: Db;
  events: AppEvents;
  logger: Logger;
  trainer: Trainer;
  /** Runs the new version and the active one on the validation split. */
  predictor: ModelPredictor;
  settings: RunSettings;
  stats: RunnerStats;
};

/** What the runner of a process counts (read by /metrics). */
export type RunnerStats = { leaseRenewalsFailed: number };

/** How a run ended, for the runner's log and its slot accounting. */
export type RunOutcome = 'completed' | 'paused' | 'cancelled' | 'failed' | 'lost' | 'released';

/** What the runner can ask of a run in progress. */
export type RunControl = {
  releaseForShutdown(): void;
  /** Training steps per second since this process took the run (0 until it trains). */
  stepsPerSecond(): number;
};

/**
 * Drives one job from its lease to COMPLETED (or PAUSED, CANCELLED, FAILED): loads its data,
 * resumes from its checkpoint, feeds the trainer's events into the database, and records the
 * model version at the end.
 */
export function runJob(
  deps: RunDeps,
  taken: TakenJob,
): { done: Promise<RunOutcome>; control: RunControl } {
  let session: TrainerSession | null = null;
  let stopReason: StopReason | null = null;
  // Paused or released: the trainer ends with a checkpoint; cancelled or lost: it just stops.
  const withCheckpoint = (reason: StopReason) => reason === 'pause' || reason === 'release';
  const stop = (reason: StopReason) => {
    if (stopReason) return;
    stopReason = reason;
    if (withCheckpoint(reason)) session?.pause();
    else void session?.cancel();
  };
  const { db, events, settings } = deps;
  const recorder = new ProgressRecorder(
    db,
    events,
    taken.job,
    settings.owner,
    settings.flushIntervalMs,
  );
  const control: RunControl = {
    releaseForShutdown: () => stop('release'),
    stepsPerSecond: () => recorder.stepsPerSecond(),
  };
  const done = drive(deps, taken, recorder, {
    attach: (s) => {
      session = s;
      if (stopReason === null) return;
      if (withCheckpoint(stopReason)) s.pause();
      else void s.cancel();
    },
    stop,
    reason: () => stopReason,
  });
  return { done, control };
}

/** Why a run stops early: a pause, a cancel, this process shutting down, the job taken over. */
type StopReason = 'pause' | 'cancel' | 'release' | 'lost';

type Hooks = {
  attach(session: TrainerSession): void;
  stop(reason: StopReason): void;
  reason(): StopReason | null;
};

async function drive(
  deps: RunDeps,
  { job: claimed, queued }: TakenJob,
  recorder: ProgressRecorder,
  hooks: Hooks,
): Promise<RunOutcome> {
  const { db, events, logger, trainer, settings } = deps;
  const { owner } = settings;
  const log = logger.child({ jobId: claimed.id });
  const timers: NodeJS.Timeout[] = [];

  // A user's pause or cancel reaches this process on the bus (same process) or at the next
  // lease renewal (another process); either way the trainer is told at once.
  const onStatus = (status: string) => {
    if (status === 'PAUSED') hooks.stop('pause');
    else if (status === 'CANCELLED' || status === 'FAILED') hooks.stop('cancel');
  };
  const unsubscribe = events.subscribe(jobTopic(claimed.id), ({ job }) => onStatus(job.status));
  // The claim (QUEUED -> PREPARING) is a status change like any other: subscribers and caches
  // hear of it now, not only at the next one (the QUEUED row first: see TakenJob).
  announce(events, queued);
  announce(events, claimed);
  // The lease is renewed from the claim on: loading a large data set may take longer than it.
  timers.push(
    setInterval(
      async () => {
        try {
          const renewed = await renewLease(db, claimed.id, owner, settings.leaseMs);
          if (renewed) return;
          // Paused or cancelled by another process, deleted, or adopted by another runner
          // (this one stalled past its lease): in every case this process trains it no more.
          const current = await getJob(db, claimed.id);
          if (current?.status === 'PAUSED' && current.leaseOwner === owner) hooks.stop('pause');
          else hooks.stop(current && !isTerminal(current.status) ? 'lost' : 'cancel');
        } catch (error) {
          deps.stats.leaseRenewalsFailed += 1;
          log.warn({ err: error }, 'lease renewal failed');
        }
      },
      Math.max(100, Math.floor(settings.leaseMs / 3)),
    ),
  );

  try {
    const job = await fixDataset(db, claimed, owner);
    const examples = await trainingChunks(db, job.bundeslaender, job.datasetCutoff ?? undefined);
    const data = await countTrainingData(db, job.bundeslaender, job.datasetCutoff ?? undefined);
    if (examples.length === 0) {
      throw new Error(
        `No training-allowed documents for ${job.bundeslaender.join(', ')}: import some first`,
      );
    }
    const checkpoint = await loadCheckpoint(db, job.id);
    await dropPointsAfter(db, job.id, checkpoint?.step ?? 0, owner);
    if (checkpoint) recorder.resumesAfter(await pointAt(db, job.id, checkpoint.step));
    let status = job.status;
    /** After the last step the job is VALIDATING (its evaluations and the artifact remain). */
    const startValidation = async () => {
      if (status !== 'TRAINING') return;
      status = (await recorder.flush({ transition: 'startValidation' })).status;
    };
    log.info(
      {
        examples: examples.length,
        documents: data.documents,
        resumeFromStep: checkpoint?.step ?? 0,
      },
      'training',
    );

    const session = trainer.start({
      jobId: job.id,
      examples,
      config: job,
      checkpoint: checkpoint?.state,
    });
    hooks.attach(session);
    timers.push(setInterval(() => session.requestCheckpoint(), settings.checkpointIntervalMs));

    let totalSteps = 0;
    let validationIndices: number[] | undefined;
    for await (const event of session) {
      try {
        switch (event.type) {
          case 'prepared':
            totalSteps = event.totalSteps;
            validationIndices = event.validationIndices;
            recorder.prepared(event.totalSteps, event.resumedFromStep, data.documents);
            // PREPARING until the trainer knows how long the run is: TRAINING comes with its
            // totalSteps in the same UPDATE.
            if (status === 'PREPARING') {
              status = (await recorder.flush({ transition: 'startTraining' })).status;
            }
            // Resumed from a checkpoint taken after the last step: no step event will say so.
            if (event.resumedFromStep === totalSteps) await startValidation();
            if (job.mixedPrecision) {
              log.info(
                { mixedPrecision: true, precision: event.precision },
                event.note ?? 'mixed precision requested; training in fp32',
              );
            }
            break;
          case 'step':
            recorder.step(event, data.documents);
            if (event.step === totalSteps) await startValidation();
            break;
          case 'eval':
            recorder.evaluation(event);
            break;
          case 'checkpoint':
            await storeCheckpoint(recorder, job.id, event, hooks.reason() !== null);
            break;
          case 'done':
            await complete(deps, recorder, job, event, data, examples, validationIndices);
            log.info({ metrics: event.metrics }, 'completed');
            return 'completed';
        }
      } catch (error) {
        // On PostgreSQL a pause can commit while this event's write is under way, before this
        // process hears of it. Then it is handled as the pause it is - the trainer ends with a
        // checkpoint (this one, if it was one) - instead of throwing away the progress since
        // the last checkpoint.
        if (!(await pausedMeanwhile(db, job.id, owner, error))) throw error;
        hooks.stop('pause');
        if (event.type === 'checkpoint') await storeCheckpoint(recorder, job.id, event, true);
      }
    }
    return outcomeOf(hooks.reason());
  } catch (error) {
    if (error instanceof JobLostError || hooks.reason() !== null) {
      log.info({ reason: hooks.reason() }, 'stopped running the job');
      return hooks.reason() === 'pause' ? 'paused' : 'lost';
    }
    log.error({ err: error }, 'training failed');
    const message = error instanceof Error ? error.message : String(error);
    try {
      const failed = await transitionJob(
        db,
        claimed.id,
        'fail',
        { errorMessage: message.slice(0, 2000) },
        ownedRunning(claimed.id, owner),
      );
      announce(events, failed);
    } catch (transitionError) {
      log.warn({ err: transitionError }, 'could not mark the job FAILED');
    }
    return 'failed';
  } finally {
    for (const timer of timers) clearInterval(timer);
    recorder.stop();
    unsubscribe();
  }
}

const outcomeOf = (reason: StopReason | null): RunOutcome =>
  reason === 'pause'
    ? 'paused'
    : reason === 'release'
      ? 'released'
      : reason === 'lost'
        ? 'lost'
        : 'cancelled';

const announce = (events: AppEvents, job: TrainingJobRow | undefined) => {
  if (job) announceJob(events, job);
};

/** Whether `error` came from a pause that committed meanwhile, the job still in our lease. */
async function pausedMeanwhile(
  db: Db,
  jobId: string,
  owner: string,
  error: unknown,
): Promise<boolean> {
  const refused =
    error instanceof JobLostError ||
    (error instanceof AppError && error.code === ErrorCode.INVALID_TRANSITION);
  if (!refused) return false;
  const current = await getJob(db, jobId);
  return current?.status === 'PAUSED' && current.leaseOwner === owner;
}

/** The data a job trains on is fixed when it is first prepared, so a resume sees the same examples. */
async function fixDataset(db: Db, job: TrainingJobRow, owner: string): Promise<TrainingJobRow> {
  if (job.datasetCutoff !== null) return job;
  const [row] = await db
    .update(trainingJobs)
    .set({ datasetCutoff: sql`(select coalesce(max(${documents.seq}), 0) from ${documents})` })
    .where(
      and(
        eq(trainingJobs.id, job.id),
        eq(trainingJobs.leaseOwner, owner),
        isNull(trainingJobs.datasetCutoff),
      ),
    )
    .returning();
  return row ?? (await getJob(db, job.id)) ?? job;
}

/** Points and progress are written first and in the same transaction as the checkpoint they lead to. */
async function storeCheckpoint(
  recorder: ProgressRecorder,
  jobId: string,
  event: Extract<TrainerEvent, { type: 'checkpoint' }>,
  stopping: boolean,
): Promise<void> {
  await recorder.flush({
    final: true,
    alsoInTransaction: (tx) => saveCheckpoint(tx, jobId, event),
    whilePaused: stopping,
  });
}

async function complete(
  { db, events, settings, predictor, logger }: RunDeps,
  recorder: ProgressRecorder,
  job: TrainingJobRow,
  event: Extract<TrainerEvent, { type: 'done' }>,
  data: { documents: number; chunks: number },
  examples: readonly Example[],
  validationIndices: readonly number[] | undefined,
): Promise<void> {
  await recorder.flush({ final: true });
  const histories = (await lossHistoriesByJob(db, [job.id])).get(job.id);
  // The examples the trainer held out, or the built-in trainer's split when it did not say.
  const split = stratifiedSplit(examples, DEFAULT_VALIDATION_FRACTION, job.seed);
  const validationIds = validationIndices ?? split.validation;
  const held = new Set(validationIds);
  const validation = validationIds.map((i) => examples[i] as Example);
  const texts = validation.map((e) => e.text);
  const truth = validation.map((e) => e.label);
  const scoreOn = async (model: ServedModel): Promise<Scored> => {
    try {
      const predicted = (await predictor.predict(model, texts)).map((c) => c.label);
      return { predicted, f1: scorePredictions(truth, predicted, split.labels).macroF1 };
    } catch (error) {
      // A model nothing here can run is unscored, as before there were model processes.
      if (error instanceof PredictMissingError) return { predicted: null, f1: null };
      logger.warn(
        { err: error, jobId: job.id, modelVersionId: model.id },
        'evaluation predict failed',
      );
      const reason = error instanceof Error ? error.message : String(error);
      return { predicted: null, f1: null, failure: reason };
    }
  };
  const challengerId = `job:${job.id}`;
  const challenger = await scoreOn({ id: challengerId, artifact: event.artifact });
  const report = evaluationReport({
    labels: split.labels,
    trainLabels: examples.filter((_, i) => !held.has(i)).map((e) => e.label),
    truth,
    predicted: challenger.predicted,
    trainerMacroF1: event.metrics.f1,
  });
  // A model process may take long to answer, so the active version is scored before the
  // transaction. Under the type's lock it must still be the active one (of two jobs completing
  // at once, the second is judged against the first if it won); if another became active
  // meanwhile, that one is scored, outside the transaction again, and the completion retried.
  const scoreChampion = async (): Promise<Champion | null> => {
    const active = await activeArtifact(db, job.modelType);
    if (!active) return null;
    const { f1, failure } = await scoreOn(modelOf(active));
    return {
      versionId: active.version.id,
      label: versionLabel(active.version.versionNumber),
      f1,
      unscoredReason: failure,
    };
  };
  let champion = await scoreChampion();
  let version: { completed: TrainingJobRow; recorded: ModelVersionRow } | null = null;
  while (!version) {
    const judgedAgainst = champion;
    version = await db.transaction(async (tx) => {
      await lockModelType(tx, job.modelType);
      const activeId = await activeVersionId(tx, job.modelType);
      if (activeId !== (judgedAgainst?.versionId ?? null)) return null;
      const completed = await transitionJob(
        tx,
        job.id,
        'complete',
        {
          ...metricsFields(event.metrics),
          valLoss: event.metrics.valLoss,
          evaluationReport: report,
          progress: 100,
          completedAt: new Date(),
          estimatedCompletion: null,
        },
        ownedRunning(job.id, settings.owner),
      );
      const evaluation = judge({
        policy: job.activation,
        challengerF1: report.macroF1,
        baselineF1: report.baselineF1,
        champion: judgedAgainst,
        challengerUnscoredReason: challenger.failure,
      });
      let recorded = await recordModelVersion(tx, {
        jobId: job.id,
        modelType: job.modelType,
        metrics: {
          ...metricsFields(event.metrics),
          ...report,
          lossHistory: histories?.lossHistory ?? [],
          valLossHistory: histories?.valLossHistory ?? [],
        },
        config: frozenConfig(job),
        bundeslaender: job.bundeslaender,
        datasetStats: { documents: data.documents, chunks: data.chunks },
        artifact: event.artifact,
        evaluation,
      });
      if (evaluation.decision === 'ACTIVATED') {
        recorded = await switchActive(tx, recorded, {
          by: SYSTEM,
          reason: job.activation === 'ALWAYS' ? 'AUTO_ALWAYS' : 'AUTO_IF_BETTER',
        });
      }
      await deleteCheckpoint(tx, job.id);
      return { completed, recorded };
    });
    if (!version) champion = await scoreChampion();
  }
  // The challenger's model process (if it has one) serves the version from now on.
  predictor.rename(challengerId, version.recorded.id);
  announce(events, version.completed);
  events.publish('models', { versionId: version.recorded.id });
}

/** A model's predictions on the validation split and their macro-F1, or why there are none. */
type Scored = { predicted: string[] | null; f1: number | null; failure?: string };

const modelOf = (active: { version: { id: string }; artifact: Uint8Array }): ServedModel => ({
  id: active.version.id,
  artifact: active.artifact,
});

const frozenConfig = (job: TrainingJobRow) => ({
  name: job.name,
  modelType: job.modelType,
  bundeslaender: job.bundeslaender,
  batchSize: job.batchSize,
  learningRate: job.learningRate,
  epochs: job.epochs,
  warmupSteps: job.warmupSteps,
  weightDecay: job.weightDecay,
  gradientAccumulation: job.gradientAccumulation,
  mixedPrecision: job.mixedPrecision,
  seed: job.seed,
  activation: job.activation,
  defaultsApplied: job.defaultsApplied,
});
