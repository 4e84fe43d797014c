import { afterAll, beforeAll, expect, test } from 'vitest';
import { ocrTopic } from '../../src/events/topics.ts';
import { createTestApp, ok, type TestApp, VIEWER_TOKEN } from '../support/app.ts';
import { batchEvents, createBatch, type OcrEvent, subscribeToBatch } from './client.ts';
import { normalise, renderText } from './images.ts';

const LINES = [
  'Zeugnis für Jürgen Müßig – Größe',
  'Mathematik befriedigend',
  'Deutsch gut',
  'Sport sehr gut',
];

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp({ ocr: { workers: 1 } });
});
afterAll(() => app.close());

/** Checks the contract's order: one progress event per image, counted up, then the completion. */
function expectBatchOrder(events: OcrEvent[], total: number, batchId: string) {
  const progress = events.slice(0, -1);
  expect(progress.map((e) => e.__typename)).toEqual(Array(total).fill('OcrImageProgress'));
  expect(events.at(-1)).toMatchObject({
    __typename: 'OcrBatchComplete',
    batchId,
    processedCount: total,
    failedCount: 0,
  });
  progress.forEach((event, i) => {
    if (event.__typename !== 'OcrImageProgress') throw new Error('progress expected');
    expect(event).toMatchObject({ batchId, current: i + 1, total });
    expect(event.progressPercent).toBeCloseTo(((i + 1) / total) * 100);
    expect(event.elapsedMs).toBeGreaterThanOrEqual(0);
    expect(event.estimatedRemainingMs).toBeGreaterThanOrEqual(0);
    expect(event.result.processingTimeMs).toBeGreaterThan(0);
  });
  const last = progress.at(-1);
  expect(last?.__typename === 'OcrImageProgress' && last.estimatedRemainingMs).toBe(0);
  const indexes = progress.map((e) => (e.__typename === 'OcrImageProgress' ? e.result.index : -1));
  expect([...indexes].sort()).toEqual([...Array(total).keys()]);
}

test('a subscriber that joins mid-batch gets the done images replayed, the rest live, then the end', async () => {
  const uploads = LINES.map((line, i) => ({ name: `${i}.png`, bytes: renderText([line]) }));
  const { id } = ok(await createBatch(app, uploads)).createOcrBatch;
  const rowId = Buffer.from(id, 'base64').toString().split(':')[1] ?? '';

  // join once the first image is done: it is replayed, the others arrive as they finish
  await new Promise<void>((resolve) => {
    const stop = app.events.subscribe(ocrTopic(rowId), () => {
      stop();
      resolve();
    });
  });
  const events = await batchEvents(app, id);
  expectBatchOrder(events, LINES.length, id);

  const texts = new Map(
    events.flatMap((e) =>
      e.__typename === 'OcrImageProgress' ? [[e.result.index, normalise(e.result.text ?? '')]] : [],
    ),
  );
  expect(LINES.map((_, i) => texts.get(i))).toEqual(LINES.map(normalise));

  // after the end, a new subscriber (a viewer) gets the same events replayed, in either mode
  for (const singleConnection of [false, true]) {
    const replay = await subscribeToBatch(app, id, { token: VIEWER_TOKEN, singleConnection });
    expect(replay.map((r) => r.data?.ocrBatch)).toEqual(events);
  }
});

test('an unknown batch is NOT_FOUND; no token is UNAUTHENTICATED', async () => {
  const unknown = Buffer.from('OcrBatch:00000000-0000-4000-8000-000000000000').toString('base64');
  const [notFound] = await subscribeToBatch(app, unknown);
  expect(notFound?.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);

  const { id } = ok(
    await createBatch(app, [{ name: 'a.png', bytes: renderText(['Klasse 5']) }]),
  ).createOcrBatch;
  const [anonymous] = await subscribeToBatch(app, id, { token: null });
  expect(anonymous?.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
  await batchEvents(app, id);
});
