import { eq, sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { executeRows } from '../../src/db/raw.ts';
import { type TrainingJobRow, trainingJobs } from '../../src/db/schema.ts';
import { type AppEvents, jobTopic } from '../../src/events/topics.ts';
import { encodeGlobalID } from '../../src/schema/global-ids.ts';
import { transitionJob } from '../../src/training/jobs.ts';
import { newerJob } from '../../src/training/progress-feed.ts';
import { adoptOrphanedJob, claimQueuedJob } from '../../src/training/runner/lease.ts';
import { learningRateAt } from '../../src/training/trainers/builtin/index.ts';
import { planSteps } from '../../src/training/trainers/builtin/schedule.ts';
import { allowedEdges, RUNNING_STATUSES } from '../../src/training/transitions.ts';
import { ADMIN_TOKEN, codes, createTestApp, ok, type TestApp } from '../support/app.ts';
import { PAUSED_AND_RESUMED } from '../support/live-progress.ts';
import { sampleOf } from '../support/metrics.ts';
import { corpusRecords } from './corpus.ts';
import {
  checkpointOf,
  createJob,
  gatedTrainer,
  importCorpus,
  jobAction,
  jobInput,
  jobRow,
  outcomeOf,
  pointsOf,
  recordingTrainer,
  startTestRunner,
  steps,
  untilStatus,
  versionsOf,
  waitFor,
  watchJob,
} from './runner-support.ts';

let app: TestApp;
const stops: (() => Promise<void>)[] = [];
beforeEach(async () => {
  app = await createTestApp();
  await importCorpus(app.database.db);
});
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
  await app.close();
});

const db = () => app.database.db;
const runner = (options?: Parameters<typeof startTestRunner>[1]) => {
  const r = startTestRunner({ db: db(), events: app.events }, options);
  stops.push(() => r.stop());
  return r;
};

/** A queued job as createTrainingJob would store it, but on states without documents. */
async function insertJobWithoutData(target: TestApp, input: ReturnType<typeof jobInput>) {
  const [row] = await target.database.db
    .insert(trainingJobs)
    .values({ ...(input as typeof trainingJobs.$inferInsert), currentLearningRate: 0 })
    .returning();
  if (!row) throw new Error('no job row');
  return { id: encodeGlobalID('TrainingJob', row.id), rowId: row.id, status: row.status };
}

/** The training-allowed documents of these states in the generated corpus. */
const allowedDocuments = (states: string[]) =>
  corpusRecords().filter((r) => r.trainingAllowed && states.includes(r.bundesland)).length;

const JOB_QUERY = `query($id: ID!) { trainingJob(id: $id) {
  status progress currentEpoch totalEpochs currentStep totalSteps loss valLoss learningRate
  documentsProcessed totalDocuments startedAt completedAt estimatedCompletion errorMessage queuePosition
  metrics { precision recall f1Score accuracy lossHistory valLossHistory }
  config { name modelType bundeslaender batchSize learningRate epochs warmupSteps weightDecay gradientAccumulation mixedPrecision seed activation }
  modelVersion { id version isActive sizeMb bundeslaender modelType metrics { accuracy f1Score lossHistory valLossHistory } }
} }`;

type JobView = {
  status: string;
  progress: number;
  currentEpoch: number;
  totalEpochs: number;
  currentStep: number;
  totalSteps: number;
  loss: number | null;
  valLoss: number | null;
  learningRate: number;
  documentsProcessed: number;
  totalDocuments: number;
  startedAt: string | null;
  completedAt: string | null;
  estimatedCompletion: string | null;
  errorMessage: string | null;
  queuePosition: number | null;
  metrics: {
    precision: number;
    recall: number;
    f1Score: number;
    accuracy: number;
    lossHistory: number[];
    valLossHistory: number[];
  };
  config: Record<string, unknown>;
  modelVersion: {
    id: string;
    version: string;
    isActive: boolean;
    sizeMb: number;
    bundeslaender: string[];
    modelType: string;
    metrics: { accuracy: number; f1Score: number; lossHistory: number[]; valLossHistory: number[] };
  } | null;
};

const viewJob = async (id: string) =>
  ok(await app.gql<{ trainingJob: JobView }>(JOB_QUERY, { id })).trainingJob;

const CLASSIFY = `query($text: String!, $modelType: ModelType!) {
  classify(text: $text, modelType: $modelType) {
    label probabilities { label probability } modelVersion { id version }
  }
}`;

describe('a job through the runner', { timeout: 120_000 }, () => {
  test('QUEUED -> PREPARING -> TRAINING -> VALIDATING -> COMPLETED with every point, real fields and a model version', async () => {
    const input = jobInput('lifecycle');
    const job = await createJob(app, input);
    expect(job.status).toBe('QUEUED');
    const watch = watchJob(app.events, job.rowId);
    runner();
    await watch.reached('COMPLETED');

    // Statuses as announced on the bus, each step an edge of the state machine.
    expect(watch.statuses).toEqual(['QUEUED', 'PREPARING', 'TRAINING', 'VALIDATING', 'COMPLETED']);
    const edges = allowedEdges();
    for (let i = 1; i < watch.statuses.length; i++) {
      expect(edges).toContain(`${watch.statuses[i - 1]}->${watch.statuses[i]}`);
    }

    // Every optimizer step exactly once, stored and announced; evaluations on epoch ends.
    const documents = allowedDocuments(input.bundeslaender);
    const train = documents - 4; // one validation example per document type
    const plan = planSteps(train, input.batchSize, input.gradientAccumulation, input.epochs);
    const points = await pointsOf(db(), job.rowId);
    expect(points.map((p) => p.step)).toEqual(steps(plan.totalSteps));
    expect([...new Set(watch.announced.map((p) => p.step))].sort((a, b) => a - b)).toEqual(
      steps(plan.totalSteps),
    );
    for (const p of points) {
      const epochEnd = p.step % plan.stepsPerEpoch === 0;
      expect(p.valLoss !== null, `valLoss at step ${p.step}`).toBe(epochEnd);
      expect(p.epoch).toBe(Math.ceil(p.step / plan.stepsPerEpoch));
      expect(p.loss).toBeGreaterThan(0);
      expect(p.learningRate).toBe(
        learningRateAt(p.step - 1, input.learningRate, input.warmupSteps, plan.totalSteps),
      );
    }
    const last = points.at(-1)!;

    // The job as the API shows it.
    const view = await viewJob(job.id);
    expect(view).toMatchObject({
      status: 'COMPLETED',
      progress: 100,
      currentEpoch: input.epochs,
      totalEpochs: input.epochs,
      currentStep: plan.totalSteps,
      totalSteps: plan.totalSteps,
      loss: last.loss,
      valLoss: last.valLoss,
      learningRate: last.learningRate,
      documentsProcessed: documents,
      totalDocuments: documents,
      estimatedCompletion: null,
      errorMessage: null,
      queuePosition: null,
      config: { ...input },
    });
    expect(Date.parse(view.completedAt!)).toBeGreaterThanOrEqual(Date.parse(view.startedAt!));
    expect(view.metrics.lossHistory).toEqual(points.slice(-50).map((p) => p.loss));
    expect(view.metrics.valLossHistory).toEqual(
      points.filter((p) => p.valLoss !== null).map((p) => p.valLoss),
    );
    for (const m of ['precision', 'recall', 'f1Score', 'accuracy'] as const) {
      expect(view.metrics[m]).toBeGreaterThan(0);
      expect(view.metrics[m]).toBeLessThanOrEqual(1);
    }

    // Exactly one version: v1.0, active (the type had none), with its real artifact.
    const versions = await versionsOf(db(), job.rowId);
    expect(versions).toHaveLength(1);
    const [{ version, artifact }] = versions as [(typeof versions)[number]];
    expect(artifact?.byteLength).toBeGreaterThan(0);
    expect(version).toMatchObject({
      versionNumber: 1,
      isActive: true,
      artifactBytes: artifact?.byteLength,
      modelType: 'ZEUGNIS',
      bundeslaender: input.bundeslaender,
      config: { ...input },
      datasetStats: { documents, chunks: documents },
      metrics: {
        precision: view.metrics.precision,
        recall: view.metrics.recall,
        f1Score: view.metrics.f1Score,
        accuracy: view.metrics.accuracy,
        lossHistory: view.metrics.lossHistory,
        valLossHistory: view.metrics.valLossHistory,
      },
    });
    expect(view.modelVersion).toMatchObject({
      version: 'v1.0',
      isActive: true,
      sizeMb: artifact!.byteLength / (1024 * 1024),
      bundeslaender: input.bundeslaender,
      modelType: 'ZEUGNIS',
    });

    // classify answers from the active version.
    const text = corpusRecords().find((r) => r.bundesland === 'NW')!.text;
    const answer = ok(
      await app.gql<{
        classify: {
          label: string;
          probabilities: { label: string; probability: number }[];
          modelVersion: { id: string; version: string };
        };
      }>(CLASSIFY, { text, modelType: 'ZEUGNIS' }),
    ).classify;
    expect(answer.modelVersion).toEqual({ id: view.modelVersion?.id, version: 'v1.0' });
    expect(answer.probabilities.map((p) => p.label).sort()).toEqual([
      'erlass',
      'handreichung',
      'schulordnung',
      'verordnung',
    ]);
    expect(answer.label).toBe(answer.probabilities[0]?.label);
    const sum = answer.probabilities.reduce((s, p) => s + p.probability, 0);
    expect(sum).toBeCloseTo(1, 9);

    // A second job of the type, activated only by hand: v2.0, not active; classify still
    // answers with v1.0.
    const second = await createJob(app, {
      ...input,
      name: 'second',
      epochs: 1,
      activation: 'MANUAL',
    });
    await untilStatus(db(), second.rowId, 'COMPLETED');
    expect((await viewJob(second.id)).modelVersion).toMatchObject({
      version: 'v2.0',
      isActive: false,
    });
    expect((await viewJob(job.id)).modelVersion).toMatchObject({ version: 'v1.0', isActive: true });
    const again = ok(
      await app.gql<{ classify: { modelVersion: { version: string } } }>(CLASSIFY, {
        text,
        modelType: 'ZEUGNIS',
      }),
    );
    expect(again.classify.modelVersion.version).toBe('v1.0');

    // No version of another type: NOT_FOUND.
    const none = await app.gql(CLASSIFY, { text, modelType: 'KLAUSUR' });
    expect(codes(none)).toEqual(['NOT_FOUND']);
    watch.stop();
  });
});

/**
 * A job that trains for about a second in the worker (340 steps of one example): long enough
 * that a pause, cancel or stop sent once its first points are announced lands mid-training.
 */
const longJob = (name: string) =>
  jobInput(name, { bundeslaender: ['NW', 'BY', 'SN'], batchSize: 1, epochs: 10 });

/** `name:STATUS` for each status change of these jobs, in the order the bus announced them. */
function statusLog(events: AppEvents, jobs: Record<string, { rowId: string }>) {
  const log: string[] = [];
  const current = new Map<string, TrainingJobRow>();
  const unsubscribes = Object.entries(jobs).map(([name, { rowId }]) =>
    events.subscribe(jobTopic(rowId), ({ job }) => {
      const last = current.get(name);
      // As a live stream does: an announcement that comes after a newer one's shows nothing new.
      if (last && newerJob(last, job) !== job) return;
      current.set(name, job);
      if (last?.status !== job.status) log.push(`${name}:${job.status}`);
    }),
  );
  return Object.assign(log, {
    stop: () => {
      for (const unsubscribe of unsubscribes) unsubscribe();
    },
  });
}

/** The most jobs of the log that were PREPARING, TRAINING or VALIDATING at one time. */
function mostRunningAtOnce(log: string[]) {
  const status = new Map<string, string>();
  let most = 0;
  for (const entry of log) {
    const [name, s] = entry.split(':') as [string, string];
    status.set(name, s);
    const running = [...status.values()].filter((v) =>
      (RUNNING_STATUSES as readonly string[]).includes(v),
    ).length;
    most = Math.max(most, running);
  }
  return most;
}

const expectAllowedPath = (statuses: string[]) => {
  const edges = allowedEdges();
  for (let i = 1; i < statuses.length; i++) {
    expect(edges, statuses.join(' -> ')).toContain(`${statuses[i - 1]}->${statuses[i]}`);
  }
};

/** A run's outcome without what differs between two jobs (the version's number, activeness). */
const comparableOutcome = (jobId: string) => outcomeOf(db(), jobId);

describe('the queue', { timeout: 120_000 }, () => {
  test('a claim takes exactly one QUEUED job, an adoption exactly one orphaned job', async () => {
    const ids: string[] = [];
    for (const name of ['a', 'b', 'c']) ids.push((await createJob(app, jobInput(name))).rowId);
    const statuses = async () =>
      Promise.all(ids.map(async (id) => (await jobRow(db(), id)).status));

    expect((await claimQueuedJob(db(), 'one', 60_000))?.job.id).toBe(ids[0]);
    expect(await statuses()).toEqual(['PREPARING', 'QUEUED', 'QUEUED']);
    expect((await claimQueuedJob(db(), 'two', 60_000))?.job.id).toBe(ids[1]);
    expect(await statuses()).toEqual(['PREPARING', 'PREPARING', 'QUEUED']);

    await db()
      .update(trainingJobs)
      .set({ status: 'TRAINING', leaseExpiresAt: sql`now() - interval '1 second'` });
    expect((await adoptOrphanedJob(db(), 'three', 60_000))?.id).toBe(ids[0]);
    const owners = await Promise.all(ids.map(async (id) => (await jobRow(db(), id)).leaseOwner));
    expect(owners).toEqual(['three', 'two', null]);
  });

  test('with one slot later jobs wait QUEUED in order while the first trains; none is refused; a failing job frees the slot', async () => {
    const gate = gatedTrainer();
    const first = await createJob(app, jobInput('first', { epochs: 1 }));
    gate.hold(first.rowId, 3);
    const r = runner({ trainer: gate.trainer });
    await gate.atGate(first.rowId, 3);

    // Created while the first trains: all accepted and queued in creation order.
    const second = await createJob(app, jobInput('second', { epochs: 1 }));
    // createTrainingJob refuses states without data; a job whose data is gone by the time it
    // runs (inserted directly here) still fails in the runner.
    const broken = await insertJobWithoutData(app, jobInput('broken', { bundeslaender: ['HH'] }));
    const third = await createJob(app, jobInput('third', { epochs: 1 }));
    const all = { first, second, broken, third };
    const log = statusLog(app.events, all);
    const views = [];
    for (const job of Object.values(all)) views.push(await viewJob(job.id));
    expect(views.map((v) => [v.status, v.queuePosition])).toEqual([
      ['TRAINING', null],
      ['QUEUED', 1],
      ['QUEUED', 2],
      ['QUEUED', 3],
    ]);
    expect(r.runningJobIds()).toEqual([first.rowId]);

    gate.release(first.rowId);
    const thirdWatch = watchJob(app.events, third.rowId);
    await thirdWatch.reached('COMPLETED');
    thirdWatch.stop();
    log.stop();

    // One at a time, in queue order; the job without data failed and the queue went on.
    expect(mostRunningAtOnce(log)).toBe(1);
    const at = (entry: string) => log.indexOf(entry);
    expect(at('second:PREPARING')).toBeGreaterThan(at('first:COMPLETED'));
    expect(at('broken:PREPARING')).toBeGreaterThan(at('second:COMPLETED'));
    expect(at('third:PREPARING')).toBeGreaterThan(at('broken:FAILED'));
    expect(await jobRow(db(), broken.rowId)).toMatchObject({
      status: 'FAILED',
      errorMessage: expect.stringContaining('No training-allowed documents for HH'),
    });
    for (const job of [first, second, third]) {
      expect((await jobRow(db(), job.rowId)).status).toBe('COMPLETED');
    }
  });
});

describe('pause and resume', { timeout: 120_000 }, () => {
  test('a job paused mid-training and resumed ends exactly as an uninterrupted run; the pause frees the slot', async () => {
    // Queued in this order before the runner starts, so every status change is seen.
    const reference = await createJob(app, longJob('reference'));
    const paused = await createJob(app, longJob('paused'));
    const other = await createJob(app, jobInput('other', { epochs: 1 }));
    const log = statusLog(app.events, { paused, other });
    const watch = watchJob(app.events, paused.rowId);
    const recording = recordingTrainer();
    runner({ trainer: recording.trainer });
    await waitFor('the first points', () => watch.announced.length > 0);
    expect(await jobAction(app, 'pauseTrainingJob', paused.id)).toBe('PAUSED');

    // The slot goes to the next job; the paused one stopped at its checkpoint, nothing after it.
    await untilStatus(db(), other.rowId, 'COMPLETED');
    const atPause = await jobRow(db(), paused.rowId);
    const checkpoint = await checkpointOf(db(), paused.rowId);
    expect(atPause.status).toBe('PAUSED');
    expect(checkpoint?.step).toBeGreaterThan(0);
    expect(checkpoint?.step).toBeLessThan(atPause.totalSteps);
    expect(atPause.currentStep).toBe(checkpoint?.step);
    expect((await pointsOf(db(), paused.rowId)).map((p) => p.step)).toEqual(
      steps(checkpoint!.step),
    );
    expect(await recording.exitCode(1)).toBe(0);

    expect(await jobAction(app, 'resumeTrainingJob', paused.id)).toBe('QUEUED');
    await watch.reached('COMPLETED');
    watch.stop();
    log.stop();

    expect(log.indexOf('other:PREPARING')).toBeGreaterThan(log.indexOf('paused:PAUSED'));
    expect(log.indexOf('other:COMPLETED')).toBeLessThan(log.lastIndexOf('paused:QUEUED'));
    expectAllowedPath(watch.statuses);
    expect(watch.statuses).toEqual(PAUSED_AND_RESUMED);
    const pausedSessions = recording.sessions.filter((s) => s.jobId === paused.rowId);
    expect(pausedSessions.map((s) => s.resumed)).toEqual([false, true]);
    expect(await comparableOutcome(paused.rowId)).toEqual(await comparableOutcome(reference.rowId));
  });

  test('pauses at awkward moments resume to exactly the uninterrupted result', async () => {
    // Each new job waits before its first step until the test says how far it may go.
    const gate = gatedTrainer({ holdNewJobsAt: 0 });
    // No timed flushes: points stay unwritten until a checkpoint or a status change writes them,
    // so a pause always finds some waiting, however loaded the machine.
    runner({ trainer: gate.trainer, flushIntervalMs: 600_000 });
    const config = jobInput('reference', { epochs: 2 });
    const reference = await createJob(app, config);
    const referenceWatch = watchJob(app.events, reference.rowId);
    gate.release(reference.rowId);
    await referenceWatch.reached('COMPLETED');
    referenceWatch.stop();
    const { totalSteps } = await jobRow(db(), reference.rowId);
    const stepsPerEpoch = totalSteps / config.epochs;

    const pauseAt = async (
      name: string,
      step: number,
      { slowPauseMs = 0, expectUnwrittenPoints = false } = {},
    ) => {
      const job = await createJob(app, { ...config, name });
      const watch = watchJob(app.events, job.rowId);
      if (slowPauseMs) gate.slowPause(job.rowId, slowPauseMs);
      await gate.atGate(job.rowId, 0);
      gate.hold(job.rowId, step);
      await gate.atGate(job.rowId, step);
      expect(await jobAction(app, 'pauseTrainingJob', job.id)).toBe('PAUSED');
      if (expectUnwrittenPoints) {
        // The scenario: the pause came while steps were still waiting for their flush.
        expect((await pointsOf(db(), job.rowId)).length).toBeLessThan(step);
      }
      await waitFor(
        'the pause checkpoint',
        async () => (await checkpointOf(db(), job.rowId))?.step === step,
      );
      gate.release(job.rowId);
      expect(await jobAction(app, 'resumeTrainingJob', job.id)).toBe('QUEUED');
      await watch.reached('COMPLETED');
      watch.stop();
      // (The runner may have claimed it before the watch began: check from the first change seen.)
      expectAllowedPath(watch.statuses.slice(1));
      expect(await comparableOutcome(job.rowId), name).toEqual(
        await comparableOutcome(reference.rowId),
      );
    };

    // After an epoch's last step, before its evaluation: the evaluation runs before the pause
    // checkpoint.
    await pauseAt('at an epoch end', stepsPerEpoch);
    // After the last step (VALIDATING), before the evaluations: the last epoch's runs before the
    // pause checkpoint, the final one after the resume.
    await pauseAt('after the last step', totalSteps);
    // While a long step runs: the pause checkpoint comes after the next progress flush.
    await pauseAt('during a slow step', 3, { slowPauseMs: 1200, expectUnwrittenPoints: true });
  });
});

describe('cancel and delete', { timeout: 120_000 }, () => {
  test('cancel while TRAINING stops the trainer: no further points, CANCELLED, no model version; delete of a running job is a CONFLICT', async () => {
    const job = await createJob(app, longJob('cancelled'));
    const watch = watchJob(app.events, job.rowId);
    const recording = recordingTrainer();
    const r = runner({ trainer: recording.trainer });
    await waitFor('the first points', () => watch.announced.length > 0);

    const refused = await app.gql('mutation($id: ID!) { deleteTrainingJob(id: $id) }', {
      id: job.id,
    });
    expect(codes(refused)).toEqual(['CONFLICT']);
    expect(refused.errors?.[0]?.message).toContain('TRAINING');

    expect(await jobAction(app, 'cancelTrainingJob', job.id)).toBe('CANCELLED');
    const pointsAtCancel = (await pointsOf(db(), job.rowId)).length;
    // The worker was terminated (exit code 1), not left to finish (0).
    expect(await recording.exitCode(0)).toBe(1);
    await waitFor('the run to end', () => r.runningJobIds().length === 0);

    const row = await jobRow(db(), job.rowId);
    expect(row.status).toBe('CANCELLED');
    expect((await pointsOf(db(), job.rowId)).length).toBe(pointsAtCancel);
    expect(pointsAtCancel).toBeLessThan(row.totalSteps);
    expect(await versionsOf(db(), job.rowId)).toEqual([]);
    expect(watch.statuses).toEqual(['QUEUED', 'PREPARING', 'TRAINING', 'CANCELLED']);
    watch.stop();

    // Once it no longer runs, it can be deleted, its points with it.
    const deleted = await app.gql('mutation($id: ID!) { deleteTrainingJob(id: $id) }', {
      id: job.id,
    });
    expect(deleted.errors).toBeUndefined();
    expect(await pointsOf(db(), job.rowId)).toEqual([]);
  });
});

describe('leases', { timeout: 120_000 }, () => {
  test('a runner stops a job at its next lease renewal once another process paused or took it', async () => {
    const gate = gatedTrainer();
    const taken = await createJob(app, jobInput('taken'));
    const paused = await createJob(app, jobInput('paused elsewhere'));
    gate.hold(taken.rowId, 3);
    gate.hold(paused.rowId, 4);
    // No checkpoints to give it away: only the lease renewal can tell.
    const r = runner({
      trainer: gate.trainer,
      concurrency: 2,
      leaseMs: 600,
      checkpointIntervalMs: 600_000,
    });
    await gate.atGate(taken.rowId, 3);
    await gate.atGate(paused.rowId, 4);
    await waitFor(
      'both flushed',
      async () =>
        (await jobRow(db(), taken.rowId)).currentStep === 3 &&
        (await jobRow(db(), paused.rowId)).currentStep === 4,
    );

    // Another server takes one over (as after a stall longer than the lease) and pauses the
    // other; neither change is announced on this process's bus.
    await db()
      .update(trainingJobs)
      .set({ leaseOwner: 'another-server', leaseExpiresAt: sql`now() + interval '1 hour'` })
      .where(eq(trainingJobs.id, taken.rowId));
    await transitionJob(db(), paused.rowId, 'pause');
    const takenBefore = await jobRow(db(), taken.rowId);

    await waitFor('both runs to end', () => r.runningJobIds().length === 0);
    // The paused one left its checkpoint; the taken one wrote nothing more.
    expect((await checkpointOf(db(), paused.rowId))?.step).toBe(4);
    expect(await checkpointOf(db(), taken.rowId)).toBeUndefined();
    expect(await jobRow(db(), taken.rowId)).toEqual(takenBefore);
  });
});

describe('graceful shutdown', { timeout: 120_000 }, () => {
  test('runner.stop() checkpoints a training job and releases its lease; a new runner adopts it at once and ends as an uninterrupted run', async () => {
    const job = await createJob(app, longJob('stopped'));
    const watch = watchJob(app.events, job.rowId);
    const firstTrainer = recordingTrainer();
    // A lease far longer than the test: only the release can let the next runner adopt it.
    const first = startTestRunner(
      { db: db(), events: app.events },
      { trainer: firstTrainer.trainer, leaseMs: 600_000 },
    );
    stops.push(() => first.stop());
    await waitFor('the first points', () => watch.announced.length > 0);

    await first.stop();
    expect(first.runningJobIds()).toEqual([]);
    expect(await firstTrainer.exitCode(0)).toBe(0);
    const stopped = await jobRow(db(), job.rowId);
    const checkpoint = await checkpointOf(db(), job.rowId);
    expect(stopped.status).toBe('TRAINING');
    expect(checkpoint?.step).toBeGreaterThan(0);
    expect(checkpoint?.step).toBeLessThan(stopped.totalSteps);
    expect(stopped.currentStep).toBe(checkpoint?.step);
    expect((await pointsOf(db(), job.rowId)).map((p) => p.step)).toEqual(steps(checkpoint!.step));
    const [lease] = await executeRows<{ released: boolean }>(
      db(),
      sql`select lease_expires_at <= now() as released from training_jobs where id = ${job.rowId}`,
    );
    expect(lease?.released).toBe(true);

    const secondTrainer = recordingTrainer();
    runner({ trainer: secondTrainer.trainer });
    await watch.reached('COMPLETED');
    watch.stop();
    expect(secondTrainer.sessions.map((s) => [s.jobId, s.resumed])).toEqual([[job.rowId, true]]);
    expect(watch.statuses).toEqual(['QUEUED', 'PREPARING', 'TRAINING', 'VALIDATING', 'COMPLETED']);

    const reference = await createJob(app, longJob('reference'));
    await untilStatus(db(), reference.rowId, 'COMPLETED');
    expect(await comparableOutcome(job.rowId)).toEqual(await comparableOutcome(reference.rowId));
  });
});

describe('metrics', { timeout: 120_000 }, () => {
  const scrape = async () => {
    const response = await app.yoga.fetch('http://test/metrics', {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    return response.text();
  };

  test("/metrics shows the runner's busy slots and each running job's steps per second", async () => {
    const gate = gatedTrainer();
    const job = await createJob(app, jobInput('measured', { epochs: 1 }));
    gate.hold(job.rowId, 3);
    const r = runner({ trainer: gate.trainer, concurrency: 2 });
    app.metrics.watchRunner(r);
    await gate.atGate(job.rowId, 3);
    await waitFor(
      'the third step recorded',
      () => (r.activity().stepsPerSecond[0]?.value ?? 0) > 0,
    );

    const during = await scrape();
    expect(sampleOf(during, 'training_runner_slots', { state: 'busy' })).toBe(1);
    expect(sampleOf(during, 'training_runner_slots', { state: 'free' })).toBe(1);
    expect(sampleOf(during, 'training_steps_per_second', { job_id: job.rowId })).toBeGreaterThan(0);
    expect(sampleOf(during, 'training_jobs', { status: 'TRAINING' })).toBe(1);
    expect(sampleOf(during, 'training_lease_renewals_failed_total')).toBe(0);

    const watch = watchJob(app.events, job.rowId, 'TRAINING');
    gate.release(job.rowId);
    await watch.reached('COMPLETED');
    watch.stop();
    await waitFor('the slot freed', () => r.activity().busy === 0);
    const after = await scrape();
    expect(sampleOf(after, 'training_runner_slots', { state: 'busy' })).toBe(0);
    expect(sampleOf(after, 'training_steps_per_second', { job_id: job.rowId })).toBeUndefined();
  });
});
