import { availableParallelism } from 'node:os';

/** Languages a batch may ask for: German, English, or both models at once. */
export const OCR_LANGUAGES = ['deu', 'eng', 'deu+eng'] as const;
export type OcrLanguage = (typeof OCR_LANGUAGES)[number];

/** PENDING: stored, not started; PROCESSING: images being read; COMPLETED: every image has a result. */
export const OCR_BATCH_STATUSES = ['PENDING', 'PROCESSING', 'COMPLETED'] as const;
export type OcrBatchStatus = (typeof OCR_BATCH_STATUSES)[number];

export const MAX_IMAGES_PER_BATCH = 100;
export const DEFAULT_MAX_IMAGE_BYTES = 20 * 1024 * 1024;
/** 50 megapixels: an A4 page scanned at 600 dpi is 35. */
export const DEFAULT_MAX_IMAGE_PIXELS = 50_000_000;
export const DEFAULT_OCR_WORKERS = availableParallelism();
