import { pino } from 'pino';
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { type Database, openDatabase } from '../../src/db/client.ts';
import { EventBus } from '../../src/events/bus.ts';
import { startPgRelay } from '../../src/events/pg-relay.ts';
import { type AppTopics, type JobEvent, jobTopic } from '../../src/events/topics.ts';
import { getJob, transitionJob } from '../../src/training/jobs.ts';
import { createTestDatabase, onPostgres, type TestDatabase } from '../support/databases.ts';
import { newJob, pointRows } from '../support/fixtures.ts';
import { seedTrainingData } from '../support/training-data.ts';

// Two event buses on two connection pools to one database stand for two processes; the
// two-process test in cross-process.test.ts runs real servers.
let database: TestDatabase;
let other: Database;
const logger = pino({ level: 'silent' });
beforeEach(async () => {
  if (!onPostgres()) return;
  database = await createTestDatabase();
  other = await openDatabase({ kind: 'postgres', url: database.url! });
});
afterEach(async () => {
  if (!onPostgres()) return;
  await other.close();
  await database.close();
});

const relayed = async (db: Database) => {
  const events = new EventBus<AppTopics>();
  const relay = await startPgRelay({
    sql: db.sql!,
    events,
    readJob: (id) => getJob(db.db, id),
    logger,
  });
  return { events, relay };
};

test.skipIf(!onPostgres())(
  'events cross processes through LISTEN/NOTIFY, once, in order',
  async () => {
    const a = await relayed(database);
    const b = await relayed(other);
    await seedTrainingData(database.db);
    const job = await newJob(database.db);
    const points = pointRows(job.id, 400);

    const onA: JobEvent[] = [];
    const onB: JobEvent[] = [];
    const plainOnB: unknown[] = [];
    a.events.subscribe(jobTopic(job.id), (e) => onA.push(e));
    b.events.subscribe(jobTopic(job.id), (e) => onB.push(e));
    for (const topic of ['jobs', 'jobProgress', 'models', 'documents', 'ocr:batch'] as const) {
      b.events.subscribe(topic, (e) => plainOnB.push([topic, e]));
    }

    a.events.publish(jobTopic(job.id), { job, newPoints: points.slice(0, 10) });
    // 390 points do not fit in one notification: they arrive as several whole events.
    a.events.publish(jobTopic(job.id), { job, newPoints: points.slice(10) });
    // A row too large to send goes with its error message cut; the receiving process reads the
    // whole message, and delivers the event's own row (its status) even if the job is gone.
    const failed = await transitionJob(database.db, job.id, 'fail', {
      errorMessage: 'ä'.repeat(4000),
    });
    a.events.publish(jobTopic(job.id), { job: failed, newPoints: [] });
    const gone = { ...failed, id: '00000000-0000-4000-8000-000000000000' };
    b.events.subscribe(jobTopic(gone.id), (e) => onB.push(e));
    a.events.publish(jobTopic(gone.id), { job: gone, newPoints: [] });
    // Every other topic as it was published: what changed, for caches and runners elsewhere.
    const plain = [
      ['jobs', { jobId: job.id }],
      ['jobProgress', { jobId: job.id }],
      ['models', { versionId: job.id }],
      ['documents', { added: 3 }],
      [
        'ocr:batch',
        { kind: 'complete', batchId: 'batch', totalTimeMs: 9, processedCount: 1, failedCount: 0 },
      ],
    ] as const;
    for (const [topic, payload] of plain) a.events.publish(topic, payload);

    await vi.waitFor(() => expect(plainOnB).toEqual(plain));
    expect(onB.flatMap((e) => e.newPoints)).toEqual(points);
    expect(onB.length).toBeGreaterThan(4);
    expect(onB[0]!.job).toEqual(job);
    expect(onB.at(-2)!.job).toEqual(failed);
    const cut = onB.at(-1)!.job;
    expect(cut).toMatchObject({ id: gone.id, status: 'FAILED' });
    expect(cut.errorMessage!.length).toBeGreaterThan(1000);
    expect(cut.errorMessage!.length).toBeLessThan(4000);
    // The echo of A's own notifications is ignored.
    expect(onA).toHaveLength(3);

    await a.relay.stop();
    await b.relay.stop();
  },
);
