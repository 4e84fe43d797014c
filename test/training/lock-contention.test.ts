import { inArray, sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { type Database, openDatabase } from '../../src/db/client.ts';
import { trainingJobs } from '../../src/db/schema.ts';
import { EventBus } from '../../src/events/bus.ts';
import { type AppEvents, type AppTopics, jobTopic } from '../../src/events/topics.ts';
import { adoptOrphanedJob, claimQueuedJob } from '../../src/training/runner/lease.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { onPostgres } from '../support/databases.ts';
import { newJob } from '../support/fixtures.ts';
import {
  createJob,
  gatedTrainer,
  importCorpus,
  jobInput,
  jobRow,
  outcomeOf,
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
      const ids: string[] = [];
      for (let i = 0; i < 24; i++) ids.push((await newJob(app.database.db, `job ${i}`)).id);
      const pools = [app.database.db, other.db];
      const owners = Array.from({ length: 8 }, (_, i) => ({
        owner: `claimer-${i}`,
        db: pools[i % 2]!,
      }));

      const claimed = await race(
        owners.map(({ owner, db }) => ({ take: () => claimQueuedJob(db, owner, 60_000) })),
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
