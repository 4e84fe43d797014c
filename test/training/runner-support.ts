import { createHash } from 'node:crypto';
import { setTimeout as sleep, setImmediate as tick } from 'node:timers/promises';
import { decodeGlobalID } from '@pothos/plugin-relay';
import { asc, eq } from 'drizzle-orm';
import { pino } from 'pino';
import { type ImportResult, importStream } from '../../src/dataset/import.ts';
import type { Db } from '../../src/db/client.ts';
import {
  checkpoints,
  type MetricPointRow,
  metricPoints,
  modelArtifacts,
  modelVersions,
  type TrainingJobRow,
  trainingJobs,
} from '../../src/db/schema.ts';
import { type AppEvents, jobTopic } from '../../src/events/topics.ts';
import { newerJob } from '../../src/training/progress-feed.ts';
import { createRunner, type RunnerOptions } from '../../src/training/runner/runner.ts';
import { createTrainingRun } from '../../src/training/trainers/builtin/run.ts';
import type { TrainerEvent } from '../../src/training/trainers/builtin/types.ts';
import type { TrainerWorker } from '../../src/training/trainers/builtin/worker.ts';
import {
  builtinTrainer,
  type Trainer,
  type TrainerInput,
  type TrainerSession,
} from '../../src/training/trainers/port.ts';
import { ok, type TestApp } from '../support/app.ts';
import { type CorpusOptions, corpusRecords, toJsonl } from './corpus.ts';

export const quietLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** Imports a generated corpus through the real JSON Lines import. */
export async function importCorpus(db: Db, options?: CorpusOptions): Promise<ImportResult> {
  const bytes = new TextEncoder().encode(toJsonl(corpusRecords(options)));
  async function* source() {
    yield bytes;
  }
  const result = await importStream(db, source());
  if (result.rejected > 0) throw new Error(`corpus rejected: ${result.errors.join('; ')}`);
  return result;
}

/** A runner with the fast settings of the tests; stop it before closing the database. */
export function startTestRunner(
  target: { db: Db; events: AppEvents },
  options: Partial<Omit<RunnerOptions, 'db' | 'events'>> = {},
) {
  return createRunner({
    db: target.db,
    events: target.events,
    logger: quietLogger,
    trainer: builtinTrainer,
    concurrency: 1,
    pollIntervalMs: 100,
    leaseMs: 1500,
    flushIntervalMs: 50,
    checkpointIntervalMs: 250,
    ...options,
  });
}

/**
 * Polls `probe` until it returns something truthy, and returns that. Bounded: throws naming
 * `what` after `timeoutMs` (the wait is on a condition, never an assertion about time).
 */
export async function waitFor<T>(
  what: string | (() => string),
  probe: () => T | Promise<T>,
  { timeoutMs = 25_000, everyMs = 20 } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  const describe = () => (typeof what === 'string' ? what : what());
  for (;;) {
    // A probe that never answers (a query stuck behind a lock) must not outlast the deadline.
    let timer: NodeJS.Timeout | undefined;
    const value = await Promise.race([
      probe(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${describe()}`)),
          Math.max(0, deadline - Date.now()),
        );
      }),
    ]).finally(() => clearTimeout(timer));
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${describe()}`);
    await sleep(everyMs);
  }
}

/**
 * What the event bus says about one job: its statuses in order and every point it announced.
 * Subscribe before a runner can take the job, or `initialStatus` may be out of date.
 */
export function watchJob(events: AppEvents, jobId: string, initialStatus = 'QUEUED') {
  const statuses: string[] = [initialStatus];
  const announced: MetricPointRow[] = [];
  let latest: TrainingJobRow | undefined;
  const unsubscribe = events.subscribe(jobTopic(jobId), ({ job, newPoints }) => {
    announced.push(...newPoints);
    // As a live stream does: an announcement that comes after a newer one's shows nothing new.
    if (latest && newerJob(latest, job) !== job) return;
    latest = job;
    if (statuses.at(-1) !== job.status) statuses.push(job.status);
  });
  return {
    statuses,
    announced,
    latest: () => latest,
    /** Resolves once the bus announced `status` for the job. */
    reached: (status: string, timeoutMs?: number) =>
      waitFor(
        () => `job ${jobId} to be ${status} (seen: ${statuses.join(' -> ')})`,
        () => statuses.includes(status),
        { timeoutMs },
      ),
    stop: unsubscribe,
  };
}

// --- GraphQL ------------------------------------------------------------------------------

export const jobInput = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  modelType: 'ZEUGNIS',
  bundeslaender: ['NW', 'BY'],
  batchSize: 2,
  learningRate: 0.01,
  epochs: 2,
  warmupSteps: 3,
  weightDecay: 0.01,
  gradientAccumulation: 1,
  mixedPrecision: false,
  seed: 11,
  // The runner tests are about training, not about champion/challenger: a completed job's
  // version becomes active as the type's first one would (tests of the rule set their own).
  activation: 'ALWAYS',
  ...extra,
});

/** Creates a job through the API; `id` is its global ID, `rowId` its database id. */
export async function createJob(app: TestApp, input: Record<string, unknown>) {
  const data = ok(
    await app.gql<{ createTrainingJob: { id: string; status: string } }>(
      'mutation($input: TrainingConfigInput!) { createTrainingJob(input: $input) { id status } }',
      { input },
    ),
  );
  const { id, status } = data.createTrainingJob;
  return { id, rowId: decodeGlobalID(id).id, status };
}

export async function jobAction(
  app: TestApp,
  action: 'pauseTrainingJob' | 'resumeTrainingJob' | 'cancelTrainingJob',
  id: string,
) {
  return ok(
    await app.gql<Record<string, { status: string }>>(
      `mutation($id: ID!) { ${action}(id: $id) { status } }`,
      { id },
    ),
  )[action]?.status;
}

// --- Database reads -----------------------------------------------------------------------

export async function jobRow(db: Db, jobId: string): Promise<TrainingJobRow> {
  const [row] = await db.select().from(trainingJobs).where(eq(trainingJobs.id, jobId));
  if (!row) throw new Error(`no job ${jobId}`);
  return row;
}

/** Polls the database until the job has this status. */
export const untilStatus = (db: Db, jobId: string, status: string) =>
  waitFor(`job ${jobId} to be ${status}`, async () => (await jobRow(db, jobId)).status === status, {
    everyMs: 50,
  });

export const pointsOf = (db: Db, jobId: string) =>
  db
    .select()
    .from(metricPoints)
    .where(eq(metricPoints.jobId, jobId))
    .orderBy(asc(metricPoints.step));

export async function checkpointOf(db: Db, jobId: string) {
  const [row] = await db.select().from(checkpoints).where(eq(checkpoints.jobId, jobId));
  return row;
}

export async function versionsOf(db: Db, jobId: string) {
  return db
    .select({ version: modelVersions, artifact: modelArtifacts.data })
    .from(modelVersions)
    .leftJoin(modelArtifacts, eq(modelArtifacts.modelVersionId, modelVersions.id))
    .where(eq(modelVersions.jobId, jobId));
}

export const digest = (bytes: Uint8Array | null | undefined) =>
  bytes ? createHash('sha256').update(bytes).digest('hex').slice(0, 16) : 'none';

/**
 * Everything a training run determines, without ids and clocks: two runs of the same config,
 * seed and data must give equal outcomes, however often they were paused, stopped or adopted.
 */
export async function outcomeOf(db: Db, jobId: string) {
  const job = await jobRow(db, jobId);
  const points = await pointsOf(db, jobId);
  const versions = await versionsOf(db, jobId);
  return {
    job: {
      status: job.status,
      progress: job.progress,
      currentStep: job.currentStep,
      totalSteps: job.totalSteps,
      currentEpoch: job.currentEpoch,
      loss: job.loss,
      valLoss: job.valLoss,
      learningRate: job.currentLearningRate,
      precision: job.precision,
      recall: job.recall,
      f1Score: job.f1Score,
      accuracy: job.accuracy,
      documentsProcessed: job.documentsProcessed,
      totalDocuments: job.totalDocuments,
    },
    points: points.map(({ step, epoch, loss, valLoss, learningRate }) => ({
      step,
      epoch,
      loss,
      valLoss,
      learningRate,
    })),
    versions: versions.map(({ version, artifact }) => ({
      metrics: version.metrics,
      artifactBytes: version.artifactBytes,
      artifact: digest(artifact),
    })),
  };
}

/** Steps 1..n, for comparing with the steps a history has. */
export const steps = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

// --- Trainers -----------------------------------------------------------------------------

/** The built-in (worker thread) trainer, remembering each session it started. */
export function recordingTrainer(inner: Trainer = builtinTrainer) {
  const sessions: { jobId: string; resumed: boolean; session: TrainerSession }[] = [];
  const trainer: Trainer = {
    ...inner,
    name: `recording ${inner.name}`,
    start(input: TrainerInput) {
      const session = inner.start(input);
      sessions.push({ jobId: input.jobId, resumed: input.checkpoint !== undefined, session });
      return session;
    },
  };
  return {
    trainer,
    sessions,
    /** The exit code of the worker thread of the `index`-th session (1: it was terminated). */
    exitCode: (index: number) => {
      const started = sessions[index];
      if (!started) throw new Error(`no session ${index}`);
      return (started.session as TrainerWorker).exited;
    },
    /** Resolves once every worker started so far has exited. */
    allExited: () => Promise.all(sessions.map(({ session }) => (session as TrainerWorker).exited)),
  };
}

/**
 * The real trainer core (`createTrainingRun`), run in this thread and held at a gate: a run
 * takes no step beyond the limit set for its job until the test raises it. Events arrive one
 * per macrotask, as from a worker. Pause, checkpoint and cancel requests are served at once,
 * at the gate too, unless `slowPause` makes a job's pause wait (a long step still running).
 * Jobs the test has not named yet are held at `holdNewJobsAt` (default: not held).
 */
export function gatedTrainer({ holdNewJobsAt = Number.POSITIVE_INFINITY } = {}) {
  const limits = new Map<string, number>();
  const pauseLatency = new Map<string, number>();
  const waiting = new Set<() => void>();
  const wakeAll = () => {
    for (const wake of [...waiting]) wake();
  };
  const positions = new Map<string, { step: number; atGate: boolean }>();
  const started: { jobId: string; resumedFromStep: number }[] = [];
  /** Checkpoint events handed to the runner, per job, and a way to ask a job's run for one. */
  const checkpointsGiven = new Map<string, number>();
  const checkpointRequests = new Map<string, () => void>();

  const trainer: Trainer = {
    ...builtinTrainer,
    name: 'gated in-process',
    start({ jobId, examples, config, checkpoint }: TrainerInput): TrainerSession {
      const run = createTrainingRun({ examples, config, checkpoint });
      let checkpointWanted = false;
      let pauseWanted = false;
      let cancelled = false;
      const wait = () =>
        new Promise<void>((resolve) => {
          const wake = () => {
            waiting.delete(wake);
            resolve();
          };
          waiting.add(wake);
        });

      async function* events(): AsyncGenerator<TrainerEvent, void, undefined> {
        let step = -1;
        for (;;) {
          while (
            step >= 0 &&
            !cancelled &&
            !checkpointWanted &&
            !pauseWanted &&
            step >= (limits.get(jobId) ?? holdNewJobsAt)
          ) {
            positions.set(jobId, { step, atGate: true });
            await wait();
          }
          positions.set(jobId, { step, atGate: false });
          if (cancelled) return;
          if (pauseWanted) {
            const latency = pauseLatency.get(jobId) ?? 0;
            if (latency > 0) await sleep(latency);
            run.pause();
          }
          if (checkpointWanted) {
            checkpointWanted = false;
            run.requestCheckpoint();
          }
          const next = run.next();
          if (next.done) return;
          const event = next.value;
          if (event.type === 'prepared') {
            step = event.resumedFromStep;
            started.push({ jobId, resumedFromStep: step });
          } else if (event.type === 'step') step = event.step;
          else if (event.type === 'checkpoint') {
            checkpointsGiven.set(jobId, (checkpointsGiven.get(jobId) ?? 0) + 1);
          }
          yield event;
          await tick();
        }
      }

      const requestCheckpoint = () => {
        checkpointWanted = true;
        wakeAll();
      };
      checkpointRequests.set(jobId, requestCheckpoint);
      return {
        [Symbol.asyncIterator]: events,
        requestCheckpoint,
        pause() {
          pauseWanted = true;
          wakeAll();
        },
        async cancel() {
          cancelled = true;
          run.stop();
          wakeAll();
        },
      };
    },
  };

  return {
    trainer,
    started,
    /** No step of this job's runs beyond `step` (Infinity: none held). */
    hold(jobId: string, step: number) {
      limits.set(jobId, step);
      wakeAll();
    },
    release(jobId: string) {
      limits.set(jobId, Number.POSITIVE_INFINITY);
      wakeAll();
    },
    /** Asks the job's current run for a checkpoint, as the runner's interval timer does. */
    checkpointNow(jobId: string) {
      const request = checkpointRequests.get(jobId);
      if (!request) throw new Error(`no run of ${jobId}`);
      request();
    },
    /** How many checkpoint events the job's runs have handed to the runner. */
    checkpointsGiven: (jobId: string) => checkpointsGiven.get(jobId) ?? 0,
    /** The job's runs reach their pause checkpoint `ms` after being asked (a step in progress). */
    slowPause(jobId: string, ms: number) {
      pauseLatency.set(jobId, ms);
    },
    /** Resolves once the job's run waits at its gate, every event before it handled. */
    atGate: (jobId: string, step: number) =>
      waitFor(`job ${jobId} to wait at step ${step}`, () => {
        const p = positions.get(jobId);
        return p?.atGate === true && p.step === step;
      }),
  };
}
