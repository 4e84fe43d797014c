import type { OcrLanguage } from '../vocabulary/ocr.ts';

/** What an engine read from one image. */
export type Recognition = {
  text: string;
  /** The engine's mean word confidence, normalised to 0..1 (tesseract reports 0..100). */
  confidence: number;
};

/**
 * An OCR engine: the batch processor knows only this, so another engine can sit beside the
 * tesseract.js adapter. `recognize` rejects when the image cannot be read (corrupt, truncated).
 */
export interface OcrEngine {
  /** Engine, runtime and model versions: part of the cache key, so a new model never serves old results. */
  readonly version: string;
  /** How many images it reads at once; the processor keeps that many in flight. */
  readonly concurrency: number;
  recognize(image: Uint8Array, language: OcrLanguage): Promise<Recognition>;
  /** Stops the engine; recognitions still running or queued reject with `EngineClosedError`. */
  close(): Promise<void>;
}

export class EngineClosedError extends Error {
  constructor() {
    super('OCR engine closed');
    this.name = 'EngineClosedError';
  }
}
