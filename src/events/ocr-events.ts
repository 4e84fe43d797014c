import type { ImageResult } from '../db/ocr-tables.ts';

/** What the `ocr:<batchId>` topic carries (built by ocr/events.ts). */
/** One image of a batch got its result. */
export type OcrProgressEvent = {
  kind: 'progress';
  batchId: string;
  /** How many images have a result now, this one included. */
  current: number;
  total: number;
  progressPercent: number;
  /** From the batch's creation to this result. */
  elapsedMs: number;
  /** The remaining images at the rate measured so far. */
  estimatedRemainingMs: number;
  result: ImageResult;
};

/** Every image of a batch has its result. */
export type OcrCompleteEvent = {
  kind: 'complete';
  batchId: string;
  totalTimeMs: number;
  processedCount: number;
  failedCount: number;
};

export type OcrEvent = OcrProgressEvent | OcrCompleteEvent;
