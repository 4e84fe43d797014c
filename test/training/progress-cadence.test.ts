import { afterEach, beforeEach, expect, test } from 'vitest';
import { EventBus } from '../../src/events/bus.ts';
import { type AppTopics, type JobEvent, jobTopic } from '../../src/events/topics.ts';
import { transitionJob } from '../../src/training/jobs.ts';
import { ProgressRecorder } from '../../src/training/runner/progress.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { newJob } from '../support/fixtures.ts';
import { seedTrainingData } from '../support/training-data.ts';

const OWNER = 'cadence-test';
const INTERVAL_MS = 1000;

let database: TestDatabase;
beforeEach(async () => {
  database = await createTestDatabase();
  await seedTrainingData(database.db);
});
afterEach(() => database.close());

/** A recorder of a job this test holds the lease of, and the progress events it announces. */
async function recording() {
  const created = await newJob(database.db, 'cadence');
  await transitionJob(database.db, created.id, 'claim', {
    leaseOwner: OWNER,
    startedAt: new Date(),
  });
  const job = await transitionJob(database.db, created.id, 'startTraining', { totalSteps: 100 });
  const events = new EventBus<AppTopics>();
  const announced: Array<{ at: number; event: JobEvent }> = [];
  const waiters: Array<() => void> = [];
  events.subscribe(jobTopic(job.id), (event) => {
    announced.push({ at: Date.now(), event });
    for (const wake of waiters.splice(0)) wake();
  });
  const recorder = new ProgressRecorder(database.db, events, job, OWNER, INTERVAL_MS);
  recorder.prepared(100, 0, 10);
  const announcement = (count: number) =>
    new Promise<void>((resolve) => {
      const check = () => (announced.length >= count ? resolve() : waiters.push(check));
      check();
    });
  return { recorder, announced, announcement };
}

const step = (n: number) =>
  ({ type: 'step', step: n, epoch: 1, loss: 1 / n, learningRate: 0.001, examplesSeen: n }) as const;

test('a step after a pause longer than the flush interval is written at once, not an interval later', async () => {
  const { recorder, announced, announcement } = await recording();
  recorder.step(step(1), 10);
  recorder.step(step(2), 10);
  await announcement(1);
  expect(announced[0]!.event.newPoints.map((p) => p.step)).toEqual([1]);

  // The steps pause for longer than the interval, as when the trainer's thread gets no CPU.
  await new Promise((r) => setTimeout(r, INTERVAL_MS * 1.2));
  const resumedAt = Date.now();
  recorder.step(step(3), 10);
  await announcement(2);
  expect(announced[1]!.event.newPoints.map((p) => p.step)).toEqual([2]);
  expect(announced[1]!.at - resumedAt).toBeLessThan(INTERVAL_MS / 2);

  // Steps that follow right away wait for the interval again: at most one write per interval.
  recorder.step(step(4), 10);
  await announcement(3);
  expect(announced[2]!.event.newPoints.map((p) => p.step)).toEqual([3]);
  expect(announced[2]!.at - announced[1]!.at).toBeGreaterThanOrEqual(INTERVAL_MS * 0.9);
  recorder.stop();
});

test('a timed write that comes late does not delay the next one: the writes keep their cadence', async () => {
  const { recorder, announced, announcement } = await recording();
  let next = 1;
  const stepping = setInterval(() => recorder.step(step(next++), 10), 50);
  try {
    await announcement(1);
    const first = announced[0]!.at;
    // The event loop is busy past the next write's time, as during a fan-out to many streams.
    await new Promise<void>((resolve) =>
      setTimeout(() => {
        while (Date.now() < first + INTERVAL_MS * 1.4);
        resolve();
      }, INTERVAL_MS * 0.8),
    );
    await announcement(3);
    const [, late, following] = announced as [unknown, { at: number }, { at: number }];
    expect(late.at - first).toBeGreaterThanOrEqual(INTERVAL_MS * 1.4);
    // due an interval after the late one's due time, not after the late write itself
    expect(following.at - late.at).toBeLessThan(INTERVAL_MS * 0.8);
    expect(following.at - first).toBeGreaterThanOrEqual(INTERVAL_MS * 1.9);
  } finally {
    clearInterval(stepping);
    recorder.stop();
  }
});
