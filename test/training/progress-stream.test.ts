import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import type { MetricPointRow, TrainingJobRow } from '../../src/db/schema.ts';
import { EventBus } from '../../src/events/bus.ts';
import { type AppTopics, jobTopic } from '../../src/events/topics.ts';
import { isJobDeleted, JobFeeds } from '../../src/training/progress-feed.ts';
import {
  type ProgressItem,
  type TrainingProgress,
  toProgress,
  watchTrainingProgress,
} from '../../src/training/progress-stream.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { addPoints, advance, newJob } from '../support/fixtures.ts';
import { seedTrainingData } from '../support/training-data.ts';

let database: TestDatabase;
let events: EventBus<AppTopics>;
let feeds: JobFeeds;
let onQuery: ((sql: string) => void) | undefined;
beforeEach(async () => {
  database = await createTestDatabase({ onQuery: (sql) => onQuery?.(sql) });
  await seedTrainingData(database.db);
  events = new EventBus<AppTopics>();
  feeds = new JobFeeds(events, 1000);
  onQuery = undefined;
});
afterEach(() => database.close());

const point = (jobId: string, step: number): MetricPointRow => ({
  jobId,
  step,
  epoch: 1,
  loss: 1 / step,
  valLoss: null,
  learningRate: 0.0001,
  recordedAt: new Date(),
});
const later = (job: TrainingJobRow, ms: number, patch: Partial<TrainingJobRow> = {}) => ({
  ...job,
  ...patch,
  updatedAt: new Date(job.updatedAt.getTime() + ms),
});

describe('watchTrainingProgress', () => {
  test('events published while the state is read are kept, without repeating replayed points or going back in time', async () => {
    const job = await newJob(database.db);
    await addPoints(database.db, job.id, 10);
    // A runner publishes while the stream reads the job: an older snapshot, with points 9..12
    // of which the replay holds 9 and 10.
    onQuery = (sql) => {
      if (!sql.includes('from "training_jobs"')) return;
      onQuery = undefined;
      events.publish(jobTopic(job.id), {
        job: later(job, -1000, { progress: 99 }),
        newPoints: [9, 10, 11, 12].map((s) => point(job.id, s)),
      });
    };
    const stream = await watchTrainingProgress(database.db, feeds, job.id, { afterStep: 5 });

    const first = (await stream.next()).value;
    expect(first.job.progress).toBe(0);
    expect(first.newPoints.map((p: MetricPointRow) => p.step)).toEqual([6, 7, 8, 9, 10]);
    const second = (await stream.next()).value;
    expect(second.job.progress).toBe(0);
    expect(second.newPoints.map((p: MetricPointRow) => p.step)).toEqual([11, 12]);

    events.publish(jobTopic(job.id), {
      job: later(job, 1000, { status: 'CANCELLED' }),
      newPoints: [point(job.id, 13)],
    });
    const last = (await stream.next()).value;
    expect(last.job.status).toBe('CANCELLED');
    expect(last.newPoints.map((p: MetricPointRow) => p.step)).toEqual([13]);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
    expect(events.listenerCount()).toBe(0);
  });

  test('a consumer that does not read gets every status, one merged update per status, each point once', async () => {
    const job = await newJob(database.db);
    const stream = await watchTrainingProgress(database.db, feeds, job.id);
    expect((await stream.next()).value.job.status).toBe('QUEUED');
    // Paused and resumed while the consumer reads nothing; the events come within one rate
    // interval, so the feed merges them too.
    const run: [TrainingJobRow['status'], number[]][] = [
      ['PREPARING', []],
      ['TRAINING', [1, 2]],
      ['TRAINING', [3, 4]],
      ['PAUSED', [5]],
      ['QUEUED', []],
      ['PREPARING', []],
      ['TRAINING', [6]],
      ['TRAINING', [7]],
      ['VALIDATING', []],
      ['COMPLETED', [8]],
    ];
    let delivered = false;
    const detach = feeds.attach(job.id, (e) => {
      if (!isJobDeleted(e) && e.job.status === 'COMPLETED') delivered = true;
    });
    run.forEach(([status, steps], i) => {
      events.publish(jobTopic(job.id), {
        job: later(job, i + 1, { status }),
        newPoints: steps.map((s) => point(job.id, s)),
      });
    });
    await vi.waitFor(() => expect(delivered).toBe(true));
    detach();

    const updates = [];
    for await (const update of stream) if (!isJobDeleted(update)) updates.push(update);
    // Each status once, in the order of its last visit: the earlier visits' points move on.
    expect(updates.map((u) => u.job.status)).toEqual([
      'PAUSED',
      'QUEUED',
      'PREPARING',
      'TRAINING',
      'VALIDATING',
      'COMPLETED',
    ]);
    expect(updates.flatMap((u) => u.newPoints.map((p) => p.step))).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8,
    ]);
  });

  test('no step goes out twice, whatever the publishers repeat', async () => {
    const job = await newJob(database.db);
    const stream = await watchTrainingProgress(database.db, feeds, job.id);
    await stream.next();
    // A run adopted after a crash records again the steps after its checkpoint (2 on), here
    // partly in the batch the feed merges.
    for (const steps of [[1, 2], [3], [2, 3, 4], [5]]) {
      events.publish(jobTopic(job.id), {
        job: later(job, 1000),
        newPoints: steps.map((s) => point(job.id, s)),
      });
    }
    const sent: number[] = [];
    while (sent.length < 5) {
      const update = (await stream.next()).value;
      sent.push(...update.newPoints.map((p: MetricPointRow) => p.step));
    }
    expect(sent).toEqual([1, 2, 3, 4, 5]);
    await stream.return?.();
  });

  test('busy watchers that got the same batches get the same merged updates', async () => {
    const job = await newJob(database.db);
    const watchers = await Promise.all(
      Array.from({ length: 3 }, async () => {
        const stream = await watchTrainingProgress(database.db, feeds, job.id);
        const got: ProgressItem[] = [];
        let release = () => {};
        const idle = new Promise<void>((resolve) => {
          release = resolve;
        });
        // A sink that takes the first update and then stays busy until released.
        stream.pushTo({ next: (item) => (got.push(item) === 1 ? idle : undefined), end() {} });
        return { got, release };
      }),
    );
    // Two batches of the feed (its interval passes between them) reach the busy watchers.
    const pass = () => new Promise((resolve) => setTimeout(resolve, 20));
    events.publish(jobTopic(job.id), { job: later(job, 1000), newPoints: [point(job.id, 1)] });
    await pass();
    events.publish(jobTopic(job.id), { job: later(job, 2000), newPoints: [point(job.id, 2)] });
    await pass();
    for (const { release } of watchers) release();
    await vi.waitFor(() => {
      for (const { got } of watchers) expect(got).toHaveLength(2);
    });
    const [merged] = watchers.map(({ got }) => got[1] as TrainingProgress);
    expect(merged?.newPoints.map((p) => p.step)).toEqual([1, 2]);
    for (const { got } of watchers) expect(got[1]).toBe(merged);
  });

  test('a late announcement of the state the first read already saw is not sent again', async () => {
    const job = await newJob(database.db);
    const stream = await watchTrainingProgress(database.db, feeds, job.id);
    expect((await stream.next()).value.job.status).toBe('QUEUED');
    // Another process's NOTIFY of the job's creation, after this stream read the job: a new
    // row object of the same snapshot.
    events.publish(jobTopic(job.id), { job: { ...job }, newPoints: [] });
    events.publish(jobTopic(job.id), {
      job: later(job, 1, { status: 'PREPARING' }),
      newPoints: [],
    });
    expect((await stream.next()).value.job.status).toBe('PREPARING');
    await stream.return?.();
  });

  test('a waiting consumer is released by return() and by its signal', async () => {
    const job = await newJob(database.db);
    const stream = await watchTrainingProgress(database.db, feeds, job.id);
    await stream.next();
    const waiting = stream.next();
    await stream.return?.();
    expect(await waiting).toEqual({ done: true, value: undefined });

    const controller = new AbortController();
    const watched = await watchTrainingProgress(database.db, feeds, job.id, {
      signal: controller.signal,
    });
    await watched.next();
    const pending = watched.next();
    // the job's topic, and `jobs` for deletions
    expect(events.listenerCount()).toBe(2);
    controller.abort();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(events.listenerCount()).toBe(0);
  });

  test('subscribers of one job share one bus subscription', async () => {
    const job = await newJob(database.db);
    const streams = await Promise.all(
      Array.from({ length: 5 }, () => watchTrainingProgress(database.db, feeds, job.id)),
    );
    // the job's topic, and `jobs` for deletions (one for all jobs)
    expect(events.listenerCount()).toBe(2);
    for (const stream of streams) await stream.return?.();
    expect(events.listenerCount()).toBe(0);
  });

  test('watchers that start together share the read of the job and their first update', async () => {
    const job = await newJob(database.db);
    let reads = 0;
    onQuery = (sql) => {
      if (sql.includes('from "training_jobs"')) reads += 1;
    };
    const streams = await Promise.all(
      Array.from({ length: 50 }, () => watchTrainingProgress(database.db, feeds, job.id)),
    );
    // No event of the job came while they subscribed: the first one's read serves them all.
    expect(reads).toBe(1);
    const firsts = await Promise.all(streams.map(async (s) => (await s.next()).value));
    expect(new Set(firsts).size).toBe(1);
    // A change after a read began reaches its watchers all the same.
    events.publish(jobTopic(job.id), { job: later(job, 1000), newPoints: [point(job.id, 1)] });
    for (const stream of streams) {
      expect((await stream.next()).value.newPoints.map((p: MetricPointRow) => p.step)).toEqual([1]);
      await stream.return?.();
    }
  });

  test('reconnecting watchers that replay from the same step share its read and their first update', async () => {
    const job = await newJob(database.db);
    await addPoints(database.db, job.id, 10);
    let pointReads = 0;
    onQuery = (sql) => {
      if (sql.includes('from "metric_points"')) pointReads += 1;
    };
    const streams = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        watchTrainingProgress(database.db, feeds, job.id, { afterStep: i < 15 ? 7 : 4 }),
      ),
    );
    // one read per step replayed from, in the epoch they subscribed in
    expect(pointReads).toBe(2);
    const firsts = await Promise.all(streams.map(async (s) => (await s.next()).value));
    expect(new Set(firsts.slice(0, 15)).size).toBe(1);
    expect(new Set(firsts.slice(15)).size).toBe(1);
    expect(firsts[0].newPoints.map((p: MetricPointRow) => p.step)).toEqual([8, 9, 10]);
    expect(firsts[19].newPoints.map((p: MetricPointRow) => p.step)).toEqual([5, 6, 7, 8, 9, 10]);
    // after an event of the job a watcher reads the points anew, and only beyond the event's
    events.publish(jobTopic(job.id), { job: later(job, 1000), newPoints: [point(job.id, 11)] });
    for (const stream of streams) {
      expect((await stream.next()).value.newPoints.map((p: MetricPointRow) => p.step)).toEqual([
        11,
      ]);
    }
    const late = await watchTrainingProgress(database.db, feeds, job.id, { afterStep: 7 });
    expect(pointReads).toBe(3);
    for (const stream of [...streams, late]) await stream.return?.();
  });

  test('a watcher gets the state at its subscribe time: after an event of the job it reads anew', async () => {
    const queued = await newJob(database.db);
    let reads = 0;
    onQuery = (sql) => {
      if (sql.includes('from "training_jobs"')) reads += 1;
    };
    const early = await watchTrainingProgress(database.db, feeds, queued.id);
    expect((await early.next()).value.job.status).toBe('QUEUED');

    // The job changes and its event reaches the process while `early` keeps the feed open.
    const preparing = await advance(database.db, queued, 'claim');
    events.publish(jobTopic(queued.id), { job: preparing, newPoints: [] });
    expect((await early.next()).value.job.status).toBe(preparing.status);

    const late = await Promise.all(
      Array.from({ length: 5 }, () => watchTrainingProgress(database.db, feeds, queued.id)),
    );
    const firsts = await Promise.all(late.map(async (s) => (await s.next()).value));
    for (const first of firsts) expect(first.job.status).toBe(preparing.status);
    // one read before the event, one shared by the watchers after it
    expect(reads).toBe(2);
    for (const stream of [early, ...late]) await stream.return?.();
  });

  test('a deleted job: what was pending, then JobDeleted, then the end', async () => {
    const job = await newJob(database.db);
    const stream = await watchTrainingProgress(database.db, feeds, job.id);
    await stream.next();
    events.publish(jobTopic(job.id), { job: later(job, 1000), newPoints: [point(job.id, 1)] });
    events.publish('jobs', { jobId: job.id, deleted: true });
    const last = (await stream.next()).value;
    expect(last.newPoints.map((p: MetricPointRow) => p.step)).toEqual([1]);
    expect((await stream.next()).value).toEqual({ jobId: job.id, deleted: true });
    expect(await stream.next()).toEqual({ done: true, value: undefined });
    expect(events.listenerCount()).toBe(0);
  });

  test('an unknown job is NOT_FOUND and leaves nothing subscribed', async () => {
    await expect(
      watchTrainingProgress(database.db, feeds, '00000000-0000-4000-8000-000000000000'),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(events.listenerCount()).toBe(0);
  });
});

describe('toProgress', () => {
  test('elapsed time runs from the start until the end; remaining is never negative', async () => {
    const job = await newJob(database.db);
    const now = Date.UTC(2026, 0, 1, 12);
    const at = (offset: number) => new Date(now + offset);
    expect(toProgress({ job, newPoints: [] }, now)).toMatchObject({
      elapsedTimeMs: 0,
      estimatedRemainingMs: null,
    });
    const running = { ...job, startedAt: at(-5000), estimatedCompletion: at(7000) };
    expect(toProgress({ job: running, newPoints: [] }, now)).toMatchObject({
      elapsedTimeMs: 5000,
      estimatedRemainingMs: 7000,
    });
    const done = { ...running, completedAt: at(-1000), estimatedCompletion: at(-2000) };
    expect(toProgress({ job: done, newPoints: [] }, now)).toMatchObject({
      elapsedTimeMs: 4000,
      estimatedRemainingMs: 0,
    });
  });
});

describe('JobFeeds', () => {
  test('the interval between batches counts from when one went out, however long its watchers took', async () => {
    const job = await newJob(database.db);
    const slowFeeds = new JobFeeds(events, 4);
    const sentAt: number[] = [];
    // Each batch keeps the process busy for 300 ms, as a fan-out to many thousands of streams may.
    const detach = slowFeeds.attach(job.id, () => {
      sentAt.push(Date.now());
      const until = Date.now() + 300;
      while (Date.now() < until);
    });
    let step = 0;
    const publishing = setInterval(
      () =>
        events.publish(jobTopic(job.id), {
          job: later(job, ++step, { currentStep: step }),
          newPoints: [point(job.id, step)],
        }),
      20,
    );
    try {
      await vi.waitFor(() => expect(sentAt.length).toBeGreaterThanOrEqual(5), { timeout: 5000 });
    } finally {
      clearInterval(publishing);
      detach();
    }
    const gaps = sentAt.slice(1).map((at, i) => at - (sentAt[i] as number));
    // each as soon as its watchers are free (300 ms: the interval is over by then), not 300 + 250
    for (const gap of gaps) expect(gap).toBeLessThan(450);
  });
});
