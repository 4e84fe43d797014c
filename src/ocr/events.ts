import type { ImageResult } from '../db/ocr-tables.ts';
import type { OcrBatchRow } from '../db/schema.ts';
import type { OcrCompleteEvent, OcrProgressEvent } from '../events/ocr-events.ts';

/** Both times come from the database clock (`now()`), so they compare. */
const msBetween = (from: Date, to: Date | null) =>
  to ? Math.max(0, to.getTime() - from.getTime()) : 0;

/**
 * The progress event of a finished image, from stored times only, so that an event replayed to a
 * late subscriber is the same as the one sent live.
 */
export function progressEvent(batch: OcrBatchRow, result: ImageResult): OcrProgressEvent {
  const current = result.position;
  const elapsedMs = msBetween(batch.createdAt, result.completedAt);
  return {
    kind: 'progress',
    batchId: batch.id,
    current,
    total: batch.total,
    progressPercent: (current / batch.total) * 100,
    elapsedMs,
    estimatedRemainingMs: Math.round((elapsedMs / current) * (batch.total - current)),
    result,
  };
}

export function completeEvent(batch: OcrBatchRow): OcrCompleteEvent {
  return {
    kind: 'complete',
    batchId: batch.id,
    totalTimeMs: msBetween(batch.createdAt, batch.completedAt),
    processedCount: batch.processed,
    failedCount: batch.failed,
  };
}
