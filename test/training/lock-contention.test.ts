import { eq, inArray, sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { type Database, openDatabase } from '../../src/db/client.ts';
import { metricPoints, trainingJobs } from '../../src/db/schema.ts';
import { EventBus } from '../../src/events/bus.ts';
import { type AppEvents, type AppTopics, jobTopic } from '../../src/events/topics.ts';
import { adoptOrphanedJob, claimQueuedJob } from '../../src/training/runner/lease.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { onPostgres } from '../support/databases.ts';
import { newJob } from '../support/fixtures.ts';
import { seedTrainingData } from '../support/training-data.ts';
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
} from './runner-support.ts';

// Real lock contention needs real connections: PGlite is one connection in one process, so
// these run on PostgreSQL only (DATABASE_URL). Two connection pools stand for two servers.

let app: TestApp;
let other: Database;
const stops: (() => Promise<void>)[] = [];
beforeEach(async () => {
  if (!onPostgres()) return;
  app = await createTestApp();
  other = await openDatabase({ kind: 'postgres', url: app.database.url as string });
});
afterEach(async () => {
  if (!onPostgres()) return;
  for (const stop of stops.splice(0).reverse()) await stop();
  await other.close();
  await app.close();
});

/**
 * Holds the documents table in another session, so that a runner's data loading waits (as on
 * a slow database with a large corpus) until `release()`.
 */
async function lockDocuments(url: string) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let locked = () => {};
  const isLocked = new Promise<void>((resolve) => {
    locked = resolve;
  });
  const transaction = sql.begin(async (tx) => {
    await tx`lock table documents in access exclusive mode`;
    locked();
    await released;
  });
  await isLocked;
  return {
    async release() {
      release();
      await transaction;
      await sql.end({ timeout: 5 });
    },
  };
}

/** Each claimer takes jobs until none is left; returns what each took. */
const race = (claimers: { take: () => Promise<{ id: string } | undefined> }[]) =>
  Promise.all(
    claimers.map(async ({ take }) => {
      const taken: string[] = [];
      for (let row = await take(); row; row = await take()) taken.push(row.id);
      return taken;
    }),
  );

describe.skipIf(!onPostgres())(
  'two servers on one queue (PostgreSQL)',
  { timeout: 180_000 },
  () => {
    test('claims and adoptions racing on two connection pools take each job exactly once', async () => {
      await seedTrainingData(app.database.db);
      const ids: string[] = [];
      for (let i = 0; i < 24; i++) ids.push((await newJob(app.database.db, `job ${i}`)).id);
      const pools = [app.database.db, other.db];
      const owners = Array.from({ length: 8 }, (_, i) => ({
        owner: `claimer-${i}`,
        db: pools[i % 2]!,
      }));

      const claimed = await race(
        owners.map(({ owner, db }) => ({
          take: async () => (await claimQueuedJob(db, owner, 60_000))?.job,
        })),
      );
      expect(claimed.flat().sort()).toEqual([...ids].sort());
      const rows = await app.database.db
        .select()
        .from(trainingJobs)
        .where(inArray(trainingJobs.id, ids));
      for (const row of rows) {
        const owner = owners[claimed.findIndex((taken) => taken.includes(row.id))]?.owner;
        expect(row).toMatchObject({ status: 'PREPARING', leaseOwner: owner });
      }
      // Both pools took part: the claims really raced.
      expect(claimed.filter((_, i) => i % 2 === 0).flat().length).toBeGreaterThan(0);
      expect(claimed.filter((_, i) => i % 2 === 1).flat().length).toBeGreaterThan(0);

      // All their owners die: every lease runs out, and the survivors race to adopt.
      await app.database.db
        .update(trainingJobs)
        .set({ status: 'TRAINING', leaseExpiresAt: sql`now() - interval '1 second'` })
        .where(inArray(trainingJobs.id, ids));
      const adopted = await race(
        owners.map(({ owner, db }) => ({
          take: () => adoptOrphanedJob(db, `adopter-${owner}`, 60_000),
        })),
      );
      expect(adopted.flat().sort()).toEqual([...ids].sort());
      const after = await app.database.db
        .select()
        .from(trainingJobs)
        .where(inArray(trainingJobs.id, ids));
      for (const row of after) {
        const owner = owners[adopted.findIndex((taken) => taken.includes(row.id))]?.owner;
        expect(row).toMatchObject({ status: 'TRAINING', leaseOwner: `adopter-${owner}` });
      }
    });

    test('a runner slow to load a job keeps renewing its lease meanwhile: no other runner takes the job', async () => {
      await importCorpus(app.database.db);
      const job = await createJob(app, jobInput('slow to load', { epochs: 1 }));
      const documents = await lockDocuments(app.database.url as string);
      const firstTrainer = recordingTrainer();
      const first = startTestRunner(
        { db: app.database.db, events: app.events },
        { trainer: firstTrainer.trainer, leaseMs: 600 },
      );
      stops.push(() => first.stop());
      // The first runner holds the job (its claim does not touch documents) before the second starts.
      await waitFor(
        'the first runner to claim the job',
        async () => (await jobRow(app.database.db, job.rowId)).leaseOwner === first.owner,
      );
      const secondTrainer = recordingTrainer();
      const second = startTestRunner(
        { db: other.db, events: new EventBus<AppTopics>() },
        { trainer: secondTrainer.trainer, leaseMs: 600 },
      );
      stops.push(() => second.stop());

      // While its data query waits, the first runner's lease must move on (three renewals).
      const leases = new Set<number>();
      try {
        await waitFor('three lease renewals while loading', async () => {
          const row = await jobRow(app.database.db, job.rowId);
          expect(row.leaseOwner).toBe(first.owner);
          leases.add(row.leaseExpiresAt?.getTime() ?? 0);
          return leases.size >= 4;
        });
      } finally {
        await documents.release();
      }
      await untilStatus(app.database.db, job.rowId, 'COMPLETED');
      expect(firstTrainer.sessions.map((s) => s.jobId)).toEqual([job.rowId]);
      expect(secondTrainer.sessions).toEqual([]);
      expect((await jobRow(app.database.db, job.rowId)).leaseOwner).toBe(first.owner);
    });

    test("a runner that lost a job while loading its data leaves the new owner's points alone", async () => {
      await importCorpus(app.database.db);
      const job = await createJob(app, jobInput('lost while loading', { epochs: 1 }));
      // A first run stops at step 5 with a checkpoint (and releases the job).
      const gate = gatedTrainer({ holdNewJobsAt: 5 });
      const earlier = startTestRunner(
        { db: app.database.db, events: app.events },
        { trainer: gate.trainer },
      );
      await gate.atGate(job.rowId, 5);
      await earlier.stop();
      expect((await checkpointOf(app.database.db, job.rowId))?.step).toBe(5);

      // The next runner adopts it and waits for its data...
      const documents = await lockDocuments(app.database.url as string);
      const recording = recordingTrainer();
      const late = startTestRunner(
        { db: app.database.db, events: app.events },
        { trainer: recording.trainer, leaseMs: 600 },
      );
      stops.push(() => late.stop());
      await waitFor(
        'the adoption',
        async () => (await jobRow(app.database.db, job.rowId)).leaseOwner === late.owner,
      );
      // ...while another server takes the job over and records steps 6..8.
      await app.database.db
        .update(trainingJobs)
        .set({ leaseOwner: 'another-server', leaseExpiresAt: sql`now() + interval '1 hour'` })
        .where(eq(trainingJobs.id, job.rowId));
      await app.database.db.insert(metricPoints).values(
        [6, 7, 8].map((step) => ({
          jobId: job.rowId,
          step,
          epoch: 1,
          loss: 1,
          learningRate: 0.01,
        })),
      );
      await documents.release();

      await waitFor('the late run to end', () => late.runningJobIds().length === 0);
      expect((await pointsOf(app.database.db, job.rowId)).map((p) => p.step)).toEqual(steps(8));
      expect((await jobRow(app.database.db, job.rowId)).leaseOwner).toBe('another-server');
    });

    test('a pause that commits while a checkpoint is being written still ends with its checkpoint', async () => {
      await importCorpus(app.database.db);
      const config = jobInput('pause meets checkpoint', { epochs: 1 });
      const reference = await createJob(app, { ...config, name: 'reference' });
      const job = await createJob(app, config);
      const gate = gatedTrainer();
      gate.hold(job.rowId, 5);
      // No periodic checkpoints (the test asks for the one it needs), no lease renewals meanwhile.
      const runner = startTestRunner(
        { db: app.database.db, events: app.events },
        { trainer: gate.trainer, checkpointIntervalMs: 600_000, leaseMs: 600_000 },
      );
      stops.push(() => runner.stop());
      await untilStatus(app.database.db, reference.rowId, 'COMPLETED');
      await gate.atGate(job.rowId, 5);

      // Another session holds the job's row: the next progress flush waits on it...
      const blocker = postgres(app.database.url as string, { max: 1, onnotice: () => {} });
      let unblock = () => {};
      const unblocked = new Promise<void>((resolve) => {
        unblock = resolve;
      });
      let rowLocked = () => {};
      const isRowLocked = new Promise<void>((resolve) => {
        rowLocked = resolve;
      });
      const holding = blocker.begin(async (tx) => {
        await tx`select id from training_jobs where id = ${job.rowId} for update`;
        rowLocked();
        await unblocked;
      });
      await isRowLocked;
      const waitingOnLocks = async () => {
        const [row] =
          await (other.sql as postgres.Sql)`select count(*)::int as n from pg_stat_activity
        where datname = current_database() and wait_event_type = 'Lock'`;
        return (row?.n as number) ?? 0;
      };
      try {
        gate.hold(job.rowId, 6);
        await waitFor('the flush of step 6 to wait', async () => (await waitingOnLocks()) === 1);
        // ...the checkpoint the runner then asks for is written after it...
        gate.checkpointNow(job.rowId);
        await waitFor(
          'the checkpoint to reach the runner',
          () => gate.checkpointsGiven(job.rowId) === 1,
        );
        // ...and the pause, queued on the row before that write, commits first.
        const pausing = jobAction(app, 'pauseTrainingJob', job.id);
        await waitFor('the pause to wait', async () => (await waitingOnLocks()) === 2);
        unblock();
        await holding;
        expect(await pausing).toBe('PAUSED');
      } finally {
        unblock();
        await holding.catch(() => {});
        await blocker.end({ timeout: 5 });
      }

      // The pause kept the progress: its checkpoint is at step 6, with every point up to it.
      await waitFor('the run to end', () => runner.runningJobIds().length === 0);
      expect((await checkpointOf(app.database.db, job.rowId))?.step).toBe(6);
      expect((await pointsOf(app.database.db, job.rowId)).map((p) => p.step)).toEqual(steps(6));
      gate.release(job.rowId);
      expect(await jobAction(app, 'resumeTrainingJob', job.id)).toBe('QUEUED');
      await untilStatus(app.database.db, job.rowId, 'COMPLETED');
      expect(
        gate.started.filter((s) => s.jobId === job.rowId).map((s) => s.resumedFromStep),
      ).toEqual([0, 6]);
      expect(await outcomeOf(app.database.db, job.rowId)).toEqual(
        await outcomeOf(app.database.db, reference.rowId),
      );
    });

    test('two runners share a queue: no job runs twice; a job released by one is finished by the other; every job completes once', async () => {
      await importCorpus(app.database.db);
      const config = jobInput('shared', { epochs: 2 });
      const jobs: string[] = [];
      for (let i = 0; i < 6; i++)
        jobs.push((await createJob(app, { ...config, name: `shared ${i}` })).rowId);

      // Runner A (the app's bus) holds each of its jobs at step 5; runner B (its own pool and
      // bus, so it only hears of jobs by polling) trains in worker threads.
      const otherEvents: AppEvents = new EventBus<AppTopics>();
      const stepsBy = { a: new Map<string, Set<number>>(), b: new Map<string, Set<number>>() };
      const follow = (events: AppEvents, into: Map<string, Set<number>>) => {
        for (const id of jobs) {
          into.set(id, new Set());
          events.subscribe(jobTopic(id), ({ newPoints }) => {
            for (const p of newPoints) into.get(id)?.add(p.step);
          });
        }
      };
      follow(app.events, stepsBy.a);
      follow(otherEvents, stepsBy.b);

      const gate = gatedTrainer({ holdNewJobsAt: 5 });
      const a = startTestRunner(
        { db: app.database.db, events: app.events },
        { trainer: gate.trainer, concurrency: 2, leaseMs: 600_000 },
      );
      stops.push(() => a.stop());
      const recording = recordingTrainer();
      const b = startTestRunner(
        { db: other.db, events: otherEvents },
        { trainer: recording.trainer, concurrency: 2 },
      );
      stops.push(() => b.stop());

      // A took two jobs at once (its first look at the queue) and holds them.
      const held: string[] = await waitFor('runner A to hold two jobs', () =>
        a.runningJobIds().length === 2 ? a.runningJobIds() : undefined,
      );
      for (const id of held) await gate.atGate(id, 5);
      // B finishes the other four meanwhile, two at a time.
      const rest = jobs.filter((id) => !held.includes(id));
      for (const id of rest) await untilStatus(app.database.db, id, 'COMPLETED');
      expect(held.every((id) => !recording.sessions.some((s) => s.jobId === id))).toBe(true);

      // A shuts down: its jobs are checkpointed at step 5 and released; B adopts and ends them.
      await a.stop();
      for (const id of held) await untilStatus(app.database.db, id, 'COMPLETED');

      // Every job ran once: B started each of its own once and resumed each of A's once.
      const sessionsOf = (id: string) => recording.sessions.filter((s) => s.jobId === id);
      for (const id of rest) expect(sessionsOf(id).map((s) => s.resumed)).toEqual([false]);
      for (const id of held) expect(sessionsOf(id).map((s) => s.resumed)).toEqual([true]);
      expect(gate.started.map((s) => s.jobId).sort()).toEqual([...held].sort());

      // Points by owner: A wrote steps 1..5 of its jobs, B the rest; of B's own jobs A wrote none.
      const reference = await outcomeOf(app.database.db, rest[0]!);
      const total = reference.job.totalSteps;
      for (const id of held) {
        expect([...stepsBy.a.get(id)!].sort((x, y) => x - y)).toEqual(steps(5));
        expect([...stepsBy.b.get(id)!].sort((x, y) => x - y)).toEqual(steps(total).slice(5));
      }
      for (const id of rest) {
        expect(stepsBy.a.get(id)!.size).toBe(0);
        expect([...stepsBy.b.get(id)!].sort((x, y) => x - y)).toEqual(steps(total));
      }

      // One version per job, numbered 1..6 without gaps or twins; the same result for each.
      const versions = (await Promise.all(jobs.map((id) => versionsOf(app.database.db, id)))).map(
        (v) => v.map((row) => row.version.versionNumber),
      );
      expect(versions.every((v) => v.length === 1)).toBe(true);
      expect(versions.flat().sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6]);
      for (const id of jobs) {
        expect((await jobRow(app.database.db, id)).leaseOwner).toBe(b.owner);
        expect(await outcomeOf(app.database.db, id)).toEqual(reference);
      }
    });
  },
);
