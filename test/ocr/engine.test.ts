import { afterAll, expect, test } from 'vitest';
import { EngineClosedError } from '../../src/ocr/engine.ts';
import { createTesseractEngine } from '../../src/ocr/tesseract-engine.ts';
import { normalise, renderText } from './images.ts';

const engine = createTesseractEngine({ workers: 1 });
afterAll(() => engine.close());

test('names tesseract.js and the models in its version', () => {
  expect(engine.version).toMatch(
    /^tesseract\.js 7\.\S+ \(core \S+; 4\.0\.0_best_int: deu \S+, eng \S+; LSTM\)$/,
  );
  expect(engine.concurrency).toBe(1);
});

test('reads an image, rejects a corrupt one, and reads on after it', async () => {
  const page = renderText(['Größenangabe für Übungsblätter']);
  const first = await engine.recognize(page, 'deu');
  expect(normalise(first.text)).toBe('Größenangabe für Übungsblätter');
  expect(first.confidence).toBeGreaterThan(0.5);
  expect(first.confidence).toBeLessThanOrEqual(1);

  await expect(engine.recognize(page.subarray(0, 100), 'deu')).rejects.toThrow(/read image/);
  // switching language and back reuses the same worker
  expect(normalise((await engine.recognize(page, 'eng')).text)).toMatch(/^Gr/);
  expect(await engine.recognize(page, 'deu')).toEqual(first);
});

test('close settles recognitions waiting for a worker and running on one', async () => {
  const other = createTesseractEngine({ workers: 1 });
  const page = renderText(['Abschlusszeugnis']);
  const settled = (job: Promise<unknown>) =>
    job.then(
      () => 'resolved',
      (error: unknown) => error,
    );
  await other.recognize(page, 'deu');
  // the first runs on the warm worker, the second waits for it
  const running = settled(other.recognize(renderText(['Abschlusszeugnis der Realschule']), 'deu'));
  const waiting = settled(other.recognize(page, 'deu'));
  await other.close();
  expect(await running).toBeInstanceOf(EngineClosedError);
  expect(await waiting).toBeInstanceOf(EngineClosedError);
});
