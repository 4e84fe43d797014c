import type { Db } from '../db/client.ts';
import type { AppEvents } from '../events/topics.ts';
import type { Logger } from '../logger.ts';
import { notFound } from '../vocabulary/errors.ts';
import * as batches from './batches.ts';
import { RecognitionCache } from './cache.ts';
import type { OcrEngine } from './engine.ts';
import { answerAtUpload, processBatch } from './processor.ts';
import { checkUploads, parseLanguage, readUpload } from './uploads.ts';
import { watchBatch } from './watch.ts';

export type OcrServiceOptions = {
  db: Db;
  events: AppEvents;
  logger: Logger;
  engine: OcrEngine;
  /** Largest accepted image; a larger one fails the whole request with PAYLOAD_TOO_LARGE. */
  maxImageBytes: number;
  /** Largest image in pixels, as its header states them; a larger one gets an error result. */
  maxImagePixels: number;
};

/**
 * OCR batches as the API uses them: created at once, processed in the background by this
 * process, resumed by the next one when interrupted.
 */
export function createOcrService({
  db,
  events,
  logger,
  engine,
  maxImageBytes,
  maxImagePixels,
}: OcrServiceOptions) {
  const cache = new RecognitionCache(db);
  const running = new Map<string, Promise<void>>();
  let resuming: Promise<void> | undefined;
  let closing = false;

  const process = (batchId: string) => {
    if (closing || running.has(batchId)) return;
    const run = processBatch({ db, engine, events, cache }, batchId, () => closing)
      .catch((error: unknown) => {
        logger.error({ err: error, batchId }, 'OCR batch stopped; the next start resumes it');
      })
      .finally(() => running.delete(batchId));
    running.set(batchId, run);
  };

  return {
    async createBatch(files: readonly File[], language: string | null | undefined) {
      const lang = parseLanguage(language);
      checkUploads(files, maxImageBytes);
      const uploads = await Promise.all(files.map(readUpload));
      const outcomes = await answerAtUpload({ engine, cache }, uploads, lang, maxImagePixels);
      const batch = await batches.insertBatch(db, lang, uploads, outcomes);
      if (batch.status !== 'COMPLETED') process(batch.id);
      return batch;
    },

    getBatch: (id: string) => batches.getBatch(db, id),
    getBatchesByIds: (ids: readonly string[]) => batches.getBatchesByIds(db, ids),
    /** The finished images of a batch, in the order they finished. */
    finishedResults: (batchId: string) => batches.finishedResults(db, batchId),

    /** The batch's events, replayed and live (see `watchBatch`); NOT_FOUND for an unknown batch. */
    async watch(batchId: string) {
      if (!(await batches.getBatch(db, batchId))) throw notFound('OCR batch', batchId);
      return watchBatch(db, events, batchId);
    },

    /** Takes up the batches a previous run left unfinished (call once at start). */
    resumeUnfinished(): Promise<void> {
      resuming ??= batches.unfinishedBatchIds(db).then((ids) => {
        if (ids.length > 0) logger.info({ batches: ids.length }, 'resuming unfinished OCR batches');
        for (const id of ids) process(id);
      });
      return resuming;
    },

    /** Stops processing (unfinished images stay for the next start) and the engine's workers. */
    async close() {
      closing = true;
      await resuming?.catch(() => {});
      await engine.close();
      await Promise.all(running.values());
    },
  };
}

export type OcrService = ReturnType<typeof createOcrService>;
