import { eq, isNotNull } from 'drizzle-orm';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ocrBatches, ocrResults } from '../../src/db/schema.ts';
import { ocrTopic } from '../../src/events/topics.ts';
import { createTestApp, ok } from '../support/app.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { batchEvents, createBatch, getBatch } from './client.ts';
import { normalise, renderText } from './images.ts';

const LINES = ['Erstes Halbjahr', 'Zweites Halbjahr', 'Förderunterricht', 'Abschlussprüfung'];

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.close());

test('a batch interrupted by a shutdown finishes after the next start', async () => {
  const before = await createTestApp({ database, ocr: { workers: 1 } });
  const uploads = LINES.map((line, i) => ({ name: `${i}.png`, bytes: renderText([line]) }));
  const { id } = ok(await createBatch(before, uploads)).createOcrBatch;
  const rowId = Buffer.from(id, 'base64').toString().split(':')[1] ?? '';

  // shut down as soon as the first image is done: its one lane then stops before the next image
  const closed = new Promise<void>((resolve) => {
    before.events.subscribe(ocrTopic(rowId), () => {
      resolve(before.close());
    });
  });
  await closed;
  const [interrupted] = await database.db.select().from(ocrBatches).where(eq(ocrBatches.id, rowId));
  expect(interrupted).toMatchObject({ status: 'PROCESSING', processed: 1, total: 4 });

  const after = await createTestApp({ database, ocr: { workers: 1 } });
  try {
    const events = await batchEvents(after, id);
    expect(events.map((e) => e.__typename)).toEqual([
      ...LINES.map(() => 'OcrImageProgress'),
      'OcrBatchComplete',
    ]);
    const batch = ok(await getBatch(after, id)).ocrBatch;
    expect(batch).toMatchObject({ status: 'COMPLETED', processed: 4 });
    const results = [...(batch?.results ?? [])].sort((a, b) => a.index - b.index);
    expect(results.map((r) => normalise(r.text ?? ''))).toEqual(LINES);

    // the uploaded bytes are dropped once each image has its result
    const kept = await database.db
      .select({ index: ocrResults.index })
      .from(ocrResults)
      .where(isNotNull(ocrResults.image));
    expect(kept).toEqual([]);
    const stored = await database.db.select().from(ocrResults).where(eq(ocrResults.index, 0));
    expect(stored[0]?.sha256).toMatch(/^[0-9a-f]{64}$/);
  } finally {
    await after.close();
  }
});
