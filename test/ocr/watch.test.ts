import { afterAll, beforeAll, expect, test } from 'vitest';
import { EventBus } from '../../src/events/bus.ts';
import type { OcrEvent } from '../../src/events/ocr-events.ts';
import { type AppTopics, ocrTopic } from '../../src/events/topics.ts';
import { insertBatch, recordResult, startBatch } from '../../src/ocr/batches.ts';
import { completeEvent, progressEvent } from '../../src/ocr/events.ts';
import { watchBatch } from '../../src/ocr/watch.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.close());

const upload = (n: number) => ({
  filename: `${n}.png`,
  bytes: new Uint8Array([n]),
  byteSize: 1,
  sha256: `${n}`.repeat(64).slice(0, 64),
  imageType: 'png' as const,
});

/** Stores a result the way the processor does, and announces it on the bus. */
async function finish(events: EventBus<AppTopics>, batchId: string, index: number) {
  const saved = await recordResult(database.db, batchId, index, {
    text: `text ${index}`,
    confidence: 0.9,
    processingTimeMs: 5,
  });
  if (!saved) throw new Error('not recorded');
  events.publish(ocrTopic(batchId), progressEvent(saved.batch, saved.result));
  if (saved.batch.status === 'COMPLETED') {
    events.publish(ocrTopic(batchId), completeEvent(saved.batch));
  }
  return saved;
}

const describeEvent = (event: OcrEvent | undefined) =>
  event?.kind === 'progress' ? `image ${event.result.index} (${event.current})` : event?.kind;

test('replays what is done, then sends the rest live, each image once, then ends', async () => {
  const events = new EventBus<AppTopics>();
  const batch = await insertBatch(
    database.db,
    'deu',
    [upload(0), upload(1), upload(2)],
    [null, null, null],
  );
  await startBatch(database.db, batch.id);
  const first = await finish(events, batch.id, 0);

  const stream = watchBatch(database.db, events, batch.id);
  const replayed = await stream.next();
  expect(describeEvent(replayed.value)).toBe('image 0 (1)');
  // what is replayed equals what was sent live
  expect(replayed.value).toEqual(progressEvent(first.batch, first.result));

  await finish(events, batch.id, 2);
  // the same image announced twice (a live event that the replay already covered) is sent once
  events.publish(ocrTopic(batch.id), progressEvent(first.batch, first.result));
  await finish(events, batch.id, 1);

  const rest: OcrEvent[] = [];
  for await (const event of stream) rest.push(event);
  expect(rest.map(describeEvent)).toEqual(['image 2 (2)', 'image 1 (3)', 'complete']);
  expect(rest.at(-1)).toMatchObject({ processedCount: 3, failedCount: 0 });
  expect(events.listenerCount()).toBe(0);
});

test('a finished batch is replayed whole and completed', async () => {
  const events = new EventBus<AppTopics>();
  const batch = await insertBatch(database.db, 'deu', [upload(0), upload(1)], [null, null]);
  await startBatch(database.db, batch.id);
  await finish(events, batch.id, 1);
  await finish(events, batch.id, 0);

  const all: OcrEvent[] = [];
  for await (const event of watchBatch(database.db, events, batch.id)) all.push(event);
  expect(all.map(describeEvent)).toEqual(['image 1 (1)', 'image 0 (2)', 'complete']);
  expect(events.listenerCount()).toBe(0);
});

test('a subscriber that leaves early stops listening', async () => {
  const events = new EventBus<AppTopics>();
  const batch = await insertBatch(database.db, 'deu', [upload(0), upload(1)], [null, null]);
  await startBatch(database.db, batch.id);
  await finish(events, batch.id, 0);
  const stream = watchBatch(database.db, events, batch.id);
  await stream.next();
  expect(events.listenerCount()).toBe(1);
  await stream.return?.();
  expect(events.listenerCount()).toBe(0);
});
