import { availableParallelism } from 'node:os';

export const DEFAULT_MAX_IMAGE_BYTES = 20 * 1024 * 1024;
/** 50 megapixels: an A4 page scanned at 600 dpi is 35. */
export const DEFAULT_MAX_IMAGE_PIXELS = 50_000_000;
export const DEFAULT_OCR_WORKERS = availableParallelism();
