import { count } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ocrBatches, ocrResults } from '../../src/db/schema.ts';
import { codes, createTestApp, ok, type TestApp, VIEWER_TOKEN } from '../support/app.ts';
import { batchEvents, createBatch, getBatch, type OcrResult, type Upload } from './client.ts';
import { normalise, pngHeader, renderText } from './images.ts';

const ZEUGNIS = 'Zeugnis für Jürgen Müßig – Größe';
const KLAUSUR = 'Klausur über Äpfel, Öl und Übungen';

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp({ ocr: { workers: 1 } });
});
afterAll(() => app.close());

/**
 * Creates a batch, follows it to completion, and returns what the mutation answered and the
 * final results by upload index.
 */
async function runBatch(uploads: Upload[], language?: string) {
  const created = ok(await createBatch(app, uploads, { language })).createOcrBatch;
  const events = await batchEvents(app, created.id);
  expect(events.at(-1)?.__typename).toBe('OcrBatchComplete');
  const batch = ok(await getBatch(app, created.id)).ocrBatch;
  expect(batch).toMatchObject({ status: 'COMPLETED', processed: uploads.length });
  const results = [...(batch?.results ?? [])].sort((a, b) => a.index - b.index);
  return { created, results };
}

const texts = (results: OcrResult[]) => results.map((r) => r.text && normalise(r.text));

describe('createOcrBatch', () => {
  test('returns the batch at once and reads German text with umlauts', async () => {
    const created = ok(
      await createBatch(app, [
        { name: 'zeugnis.png', bytes: renderText([ZEUGNIS]) },
        { name: 'klausur.png', bytes: renderText([KLAUSUR]) },
      ]),
    ).createOcrBatch;
    expect(created).toMatchObject({ total: 2, language: 'deu', completedAt: null, results: [] });
    expect(['PENDING', 'PROCESSING']).toContain(created.status);

    const events = await batchEvents(app, created.id);
    expect(events.map((e) => e.__typename)).toEqual([
      'OcrImageProgress',
      'OcrImageProgress',
      'OcrBatchComplete',
    ]);

    const batch = ok(await getBatch(app, created.id)).ocrBatch;
    expect(batch).toMatchObject({ status: 'COMPLETED', total: 2, processed: 2 });
    expect(batch?.completedAt).toEqual(expect.any(String));
    const results = [...(batch?.results ?? [])].sort((a, b) => a.index - b.index);
    expect(texts(results)).toEqual([normalise(ZEUGNIS), normalise(KLAUSUR)]);
    expect(results.map((r) => r.filename)).toEqual(['zeugnis.png', 'klausur.png']);
    for (const result of results) {
      expect(result).toMatchObject({ fromCache: false, error: null });
      expect(result.confidence).toBeGreaterThan(0.5);
      expect(result.confidence).toBeLessThanOrEqual(1);
    }
  });

  test('a repeated image is answered from the cache by the mutation itself', async () => {
    const page = renderText(['Versetzung in die Klasse 7']);
    const [first] = (await runBatch([{ name: 'a.png', bytes: page }])).results;
    expect(first).toMatchObject({ fromCache: false, error: null });

    const known = ok(await createBatch(app, [{ name: 'again.png', bytes: page }])).createOcrBatch;
    expect(known).toMatchObject({ status: 'COMPLETED', processed: 1 });
    expect(known.results).toEqual([
      expect.objectContaining({ index: 0, fromCache: true, text: first?.text, error: null }),
    ]);
    expect(known.results[0]?.confidence).toBe(first?.confidence);

    const other = renderText(['Bemerkungen zum Arbeitsverhalten']);
    const mixed = await runBatch([
      { name: 'new.png', bytes: other },
      { name: 'again.png', bytes: page },
    ]);
    expect(mixed.created).toMatchObject({ status: 'PENDING', processed: 1 });
    expect(mixed.created.results.map((r) => [r.index, r.fromCache])).toEqual([[1, true]]);
    expect(mixed.results[0]).toMatchObject({ fromCache: false, error: null });
    expect(normalise(mixed.results[0]?.text ?? '')).toBe('Bemerkungen zum Arbeitsverhalten');
    expect(mixed.results[1]).toMatchObject({ fromCache: true, text: first?.text });
  });

  test('files that are no image, or a broken one, get an error while the rest are read', async () => {
    const good = renderText(['Notenübersicht für das Schuljahr']);
    const noise = new Uint8Array(4096).map((_, i) => (i * 7919 + 13) % 251);
    const { created, results } = await runBatch([
      { name: 'noise.png', bytes: noise },
      { name: 'truncated.png', bytes: good.subarray(0, good.length / 2) },
      { name: 'notes.txt', bytes: new TextEncoder().encode('Zeugnis, aber als Text') },
      { name: 'good.png', bytes: good },
    ]);
    // files that are no image are answered at once
    expect(created.results.map((r) => r.index)).toEqual([0, 2]);
    expect(results[0]?.error).toMatch(/not an image/);
    expect(results[1]?.error).toMatch(/could not read the image/);
    expect(results[2]?.error).toMatch(/not an image/);
    for (const bad of results.slice(0, 3))
      expect(bad).toMatchObject({ text: null, confidence: null });
    expect(results[3]).toMatchObject({ error: null });
    expect(normalise(results[3]?.text ?? '')).toBe('Notenübersicht für das Schuljahr');
  });

  test('an image declaring more pixels than the limit gets an error at once, the others are read', async () => {
    const good = renderText(['Versetzung gefährdet']);
    const { created, results } = await runBatch([
      { name: 'bomb.png', bytes: pngHeader(30_000, 30_000) },
      { name: 'good.png', bytes: good },
    ]);
    expect(created.results.map((r) => r.index)).toEqual([0]);
    expect(results[0]).toMatchObject({ text: null, processingTimeMs: 0 });
    expect(results[0]?.error).toBe(
      'the image is 30000×30000 pixels (900.0 megapixels); at most 50.0 megapixels are read',
    );
    expect(normalise(results[1]?.text ?? '')).toBe('Versetzung gefährdet');
  });

  test('tells the type from the bytes, not the name, and reads all five types', async () => {
    const line = 'Schulnoten für Übersee';
    const { results } = await runBatch([
      { name: 'scan.txt', bytes: renderText([line]) },
      { name: 'scan.png', bytes: renderText([line], { format: 'jpeg' }) },
      { name: 'scan', bytes: renderText([line], { format: 'webp' }) },
      { name: 'scan.bmp', bytes: renderText([line], { format: 'bmp' }) },
      { name: 'scan.tif', bytes: renderText([line], { format: 'tiff' }) },
    ]);
    expect(results.map((r) => r.error)).toEqual([null, null, null, null, null]);
    expect(texts(results)).toEqual([line, line, line, line, line]);
  });

  test('reads English, and German and English together', async () => {
    const english = 'The quick brown fox jumps over the lazy dog';
    const [eng] = (await runBatch([{ name: 'en.png', bytes: renderText([english]) }], 'eng'))
      .results;
    expect(normalise(eng?.text ?? '')).toBe(english);
    const [both] = (
      await runBatch([{ name: 'both.png', bytes: renderText([english, ZEUGNIS]) }], 'deu+eng')
    ).results;
    // both models vote on every word; the English one may drop an umlaut, so check words both know
    expect(normalise(both?.text ?? '')).toContain(english);
    expect(normalise(both?.text ?? '')).toContain('Jürgen Müßig - Größe');
  });

  test('refuses other languages with BAD_USER_INPUT on language', async () => {
    for (const language of ['fra', 'DEU', null]) {
      const result = await createBatch(app, [{ name: 'a.png', bytes: renderText(['x']) }], {
        language,
      });
      expect(codes(result)).toEqual(['BAD_USER_INPUT']);
      expect(result.errors?.[0]?.extensions?.field).toBe('language');
    }
  });

  test('takes 1..100 images', async () => {
    const tiny = { name: 'x.png', bytes: renderText(['x'], { fontSize: 8 }) };
    for (const n of [0, 101]) {
      const result = await createBatch(
        app,
        Array.from({ length: n }, () => tiny),
      );
      expect(codes(result)).toEqual(['BAD_USER_INPUT']);
      expect(result.errors?.[0]?.extensions?.field).toBe('images');
      expect(result.errors?.[0]?.message).toMatch(/1\.\.100/);
    }
  });

  test('needs the admin role', async () => {
    const upload = [{ name: 'a.png', bytes: renderText(['x']) }];
    expect(codes(await createBatch(app, upload, { token: VIEWER_TOKEN }))).toEqual(['FORBIDDEN']);
    // A multipart post without Authorization could come from another site: CSRF prevention refuses it.
    expect(codes(await createBatch(app, upload, { token: null }))).toEqual(['FORBIDDEN']);
  });
});

describe('ocrBatch query', () => {
  test('finds a batch by id, also as a node; null for an unknown one', async () => {
    const { id } = ok(
      await createBatch(app, [{ name: 'a.png', bytes: renderText(['Halbjahr']) }]),
    ).createOcrBatch;
    await batchEvents(app, id);
    const viewed = ok(await getBatch(app, id, VIEWER_TOKEN)).ocrBatch;
    expect(viewed).toMatchObject({ id, status: 'COMPLETED', total: 1 });

    const node = ok(
      await app.gql<{ node: { __typename: string; total: number } }>(
        'query ($id: ID!) { node(id: $id) { __typename ... on OcrBatch { total } } }',
        { id },
      ),
    ).node;
    expect(node).toEqual({ __typename: 'OcrBatch', total: 1 });

    const unknown = Buffer.from('OcrBatch:00000000-0000-4000-8000-000000000000').toString('base64');
    expect(ok(await getBatch(app, unknown)).ocrBatch).toBeNull();
    const wrongType = await getBatch(app, Buffer.from('TrainingJob:1').toString('base64'));
    expect(codes(wrongType)).toEqual(['BAD_USER_INPUT']);
  });
});

describe('image size limit', () => {
  let small: TestApp;
  beforeAll(async () => {
    small = await createTestApp({ ocr: { workers: 1, maxImageBytes: 2000 } });
  });
  afterAll(() => small.close());

  test('an image over OCR_MAX_IMAGE_BYTES fails the request before anything is stored', async () => {
    const big = renderText(['Ein Bild über der Grenze'], { fontSize: 40 });
    expect(big.length).toBeGreaterThan(2000);
    const result = await createBatch(small, [
      { name: 'ok.png', bytes: new Uint8Array(100) },
      { name: 'big.png', bytes: big },
    ]);
    expect(codes(result)).toEqual(['PAYLOAD_TOO_LARGE']);
    expect(result.errors?.[0]?.message).toMatch(/big\.png/);
    const [batches] = await small.database.db.select({ n: count() }).from(ocrBatches);
    const [results] = await small.database.db.select({ n: count() }).from(ocrResults);
    expect([batches?.n, results?.n]).toEqual([0, 0]);
  });
});
