import type { Db } from '../db/client.ts';
import type { OcrBatchRow } from '../db/schema.ts';
import { type AppEvents, ocrTopic } from '../events/topics.ts';
import type { OcrLanguage } from '../vocabulary/ocr.ts';
import { IMAGE_TYPES } from '../vocabulary/ocr.ts';
import {
  imageBytes,
  type Outcome,
  type PendingImage,
  pendingImages,
  recordResult,
  type StoredUpload,
  startBatch,
} from './batches.ts';
import type { RecognitionCache } from './cache.ts';
import { EngineClosedError, type OcrEngine, type Recognition } from './engine.ts';
import { completeEvent, progressEvent } from './events.ts';

export type ProcessorDeps = {
  db: Db;
  engine: OcrEngine;
  events: AppEvents;
  cache: RecognitionCache;
};

const NOT_AN_IMAGE = `not an image this service reads (expected ${IMAGE_TYPES.map((t) => t.toUpperCase()).join(', ')})`;

/**
 * What can be answered while the upload is stored, without the engine: files that are no image,
 * images of more than `maxPixels`, and images read before (one cache lookup for all). Null for
 * the images left to read.
 */
export async function answerAtUpload(
  { engine, cache }: Pick<ProcessorDeps, 'engine' | 'cache'>,
  uploads: readonly StoredUpload[],
  language: OcrLanguage,
  maxPixels: number,
): Promise<(Outcome | null)[]> {
  const started = performance.now();
  const refusals = uploads.map((upload) => refusal(upload, maxPixels));
  const images = uploads.filter((_, index) => refusals[index] === null);
  const cached = await cache.get(
    images.map((upload) => upload.sha256),
    { language, engineVersion: engine.version },
  );
  const processingTimeMs = Math.round(performance.now() - started);
  return uploads.map((upload, index) => {
    const error = refusals[index];
    if (error) return { error, processingTimeMs: 0 };
    const hit = cached.get(upload.sha256);
    return hit ? { ...hit, fromCache: true, processingTimeMs } : null;
  });
}

/** Why the engine will not be given this file; null when it will. */
function refusal({ imageType, dimensions }: StoredUpload, maxPixels: number): string | null {
  if (imageType === null) return NOT_AN_IMAGE;
  if (dimensions && dimensions.width * dimensions.height > maxPixels) {
    const megapixels = (pixels: number) => `${(pixels / 1e6).toFixed(1)} megapixels`;
    return `the image is ${dimensions.width}×${dimensions.height} pixels (${megapixels(dimensions.width * dimensions.height)}); at most ${megapixels(maxPixels)} are read`;
  }
  return null;
}

/**
 * Gives every pending image of a batch its result, `engine.concurrency` images at a time, and
 * announces each on the batch's topic. Stops between images once `stopping()` says so; the images
 * left then are taken up by the next run (see `resumeUnfinished`).
 */
export async function processBatch(
  deps: ProcessorDeps,
  batchId: string,
  stopping: () => boolean,
): Promise<void> {
  const batch = await startBatch(deps.db, batchId);
  if (!batch || batch.status === 'COMPLETED') return;
  const pending = await pendingImages(deps.db, batchId);
  let next = 0;
  let failed = false;
  const lane = async () => {
    try {
      for (let image = pending[next++]; image && !failed && !stopping(); image = pending[next++]) {
        if (!(await processImage(deps, batch, image))) return;
      }
    } catch (error) {
      failed = true;
      throw error;
    }
  };
  const lanes = Math.min(deps.engine.concurrency, pending.length);
  // settle every lane before reporting a failure: none may still write once the caller moves on
  const settled = await Promise.allSettled(Array.from({ length: lanes }, lane));
  const rejected = settled.find((s) => s.status === 'rejected');
  if (rejected) throw rejected.reason;
}

/** Returns false when the engine closed under it (the image stays pending). */
async function processImage(
  deps: ProcessorDeps,
  batch: OcrBatchRow,
  image: PendingImage,
): Promise<boolean> {
  const started = performance.now();
  let outcome: Omit<Outcome, 'processingTimeMs'> | null;
  try {
    outcome = await readImage(deps, batch, image);
  } catch (error) {
    if (error instanceof EngineClosedError) return false;
    throw error;
  }
  if (!outcome) return true;
  const processingTimeMs = Math.round(performance.now() - started);
  const saved = await recordResult(deps.db, batch.id, image.index, {
    ...outcome,
    processingTimeMs,
  });
  if (saved) {
    deps.events.publish(ocrTopic(batch.id), progressEvent(saved.batch, saved.result));
    if (saved.batch.status === 'COMPLETED') {
      deps.events.publish(ocrTopic(batch.id), completeEvent(saved.batch));
    }
  }
  return true;
}

/**
 * The text of an image: from the cache when these bytes were read since the upload, else from the
 * engine. Null when another server finished the image meanwhile (its bytes went with its result).
 */
async function readImage(
  { db, engine, cache }: ProcessorDeps,
  batch: OcrBatchRow,
  image: PendingImage,
): Promise<Omit<Outcome, 'processingTimeMs'> | null> {
  const key = { language: batch.language, engineVersion: engine.version };
  const cached = (await cache.get([image.sha256], key)).get(image.sha256);
  if (cached) return { ...cached, fromCache: true };
  const bytes = await imageBytes(db, batch.id, image.index);
  if (!bytes) return null;
  let recognition: Recognition;
  try {
    recognition = await engine.recognize(bytes, batch.language);
  } catch (error) {
    if (error instanceof EngineClosedError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    return { error: `could not read the image: ${reason}` };
  }
  await cache.put({ ...key, sha256: image.sha256 }, recognition);
  return recognition;
}
