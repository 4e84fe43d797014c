import type { Worker as ThreadWorker } from 'node:worker_threads';
import Tesseract from 'tesseract.js';
import type { OcrLanguage } from '../vocabulary/ocr.ts';
import { EngineClosedError, type OcrEngine, type Recognition } from './engine.ts';
import { createModelFolder, removeModelFolder, tesseractVersion } from './tessdata.ts';
import { WorkerPool } from './worker-pool.ts';

/** A tesseract.js worker, the language it is initialised with, and whether its thread still runs. */
type Slot = {
  worker: Tesseract.Worker;
  /** Its thread: terminated directly, since tesseract.js's terminate() makes later calls throw unhandled. */
  thread: ThreadWorker;
  language: OcrLanguage;
  readonly alive: boolean;
  /** Rejects when the worker thread exits: tesseract.js would leave its pending jobs unsettled. */
  exited: Promise<never>;
};

/** tesseract.js rejects with strings like "Error: Error attempting to read image." */
const asError = (reason: unknown) =>
  reason instanceof Error ? reason : new Error(String(reason).replace(/^Error: /, ''));

/**
 * The tesseract.js adapter: a pool of `workers` WASM workers (each a thread, ~180 MB, ~1.2 s to
 * start), started on first use and kept until `close`. Models load from npm packages, never from
 * the network.
 */
export function createTesseractEngine({ workers }: { workers: number }): OcrEngine {
  let closing = false;
  let modelFolder: Promise<string> | undefined;

  const startSlot = async (): Promise<Slot> => {
    modelFolder ??= createModelFolder();
    const worker = await Tesseract.createWorker('deu', Tesseract.OEM.LSTM_ONLY, {
      langPath: await modelFolder,
      gzip: true,
      // read the models from langPath only: no cache files written into the working directory
      cacheMethod: 'none',
      // without a handler tesseract.js throws a failed job's error out of its message listener
      errorHandler: () => {},
    });
    const thread = (worker as unknown as { worker: ThreadWorker }).worker;
    let alive = true;
    const exited = new Promise<never>((_resolve, reject) => {
      thread.once('exit', (code) => {
        alive = false;
        reject(closing ? new EngineClosedError() : new Error(`OCR worker exited (code ${code})`));
      });
    });
    exited.catch(() => {});
    return {
      worker,
      thread,
      language: 'deu',
      exited,
      get alive() {
        return alive;
      },
    };
  };

  const pool = new WorkerPool<Slot>({
    size: workers,
    create: startSlot,
    destroy: async (slot) => {
      await slot.thread.terminate();
    },
    usable: (slot) => slot.alive,
  });

  const recognizeOn = async (slot: Slot, image: Uint8Array, language: OcrLanguage) => {
    const settle = <T>(job: Promise<T>) =>
      Promise.race([job.catch((reason: unknown) => Promise.reject(asError(reason))), slot.exited]);
    if (slot.language !== language) {
      await settle(slot.worker.reinitialize(language, Tesseract.OEM.LSTM_ONLY));
      slot.language = language;
    }
    const buffer = Buffer.from(image.buffer, image.byteOffset, image.byteLength);
    const { data } = await settle(slot.worker.recognize(buffer));
    return { text: data.text, confidence: data.confidence / 100 } satisfies Recognition;
  };

  return {
    version: tesseractVersion(),
    concurrency: workers,
    recognize: (image, language) =>
      pool.run(
        (slot) => recognizeOn(slot, image, language),
        (slot) => slot.language === language,
      ),
    close: async () => {
      closing = true;
      await pool.close();
      if (modelFolder) await removeModelFolder(await modelFolder);
    },
  };
}
