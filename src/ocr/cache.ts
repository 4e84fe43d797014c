import { and, eq, inArray } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { ocrCache } from '../db/schema.ts';
import type { OcrLanguage } from '../vocabulary/ocr.ts';
import type { Recognition } from './engine.ts';

/** Same bytes, same language, same engine and models: same text. */
export type CacheKey = { sha256: string; language: OcrLanguage; engineVersion: string };

/** Recognitions this process keeps at hand (a page's text is a few KB). */
export const MEMORY_ENTRIES = 1000;

/**
 * Recognitions by content: stored in the database, which every process shares, and the most
 * recently used ones also in memory. An entry never changes once written (its key names the
 * bytes, the language and the engine), so the memory needs no invalidation, and a repeated image
 * is answered without a round trip.
 */
export class RecognitionCache {
  readonly #recent = new Map<string, Recognition>();

  constructor(private readonly db: Db) {}

  /** The cached recognitions of any of these contents (by SHA-256); one statement at most. */
  async get(
    sha256s: readonly string[],
    { language, engineVersion }: Omit<CacheKey, 'sha256'>,
  ): Promise<Map<string, Recognition>> {
    const found = new Map<string, Recognition>();
    const missing: string[] = [];
    for (const sha256 of new Set(sha256s)) {
      const recognition = this.#recall({ sha256, language, engineVersion });
      if (recognition) found.set(sha256, recognition);
      else missing.push(sha256);
    }
    if (missing.length === 0) return found;
    const rows = await this.db
      .select({ sha256: ocrCache.sha256, text: ocrCache.text, confidence: ocrCache.confidence })
      .from(ocrCache)
      .where(
        and(
          inArray(ocrCache.sha256, missing),
          eq(ocrCache.language, language),
          eq(ocrCache.engineVersion, engineVersion),
        ),
      );
    for (const { sha256, ...recognition } of rows) {
      this.#remember({ sha256, language, engineVersion }, recognition);
      found.set(sha256, recognition);
    }
    return found;
  }

  async put(key: CacheKey, recognition: Recognition): Promise<void> {
    await this.db
      .insert(ocrCache)
      .values({ ...key, ...recognition })
      .onConflictDoNothing();
    this.#remember(key, recognition);
  }

  #recall(key: CacheKey): Recognition | undefined {
    const id = memoryKey(key);
    const recognition = this.#recent.get(id);
    if (recognition) {
      // most recently used last: a Map iterates in insertion order
      this.#recent.delete(id);
      this.#recent.set(id, recognition);
    }
    return recognition;
  }

  #remember(key: CacheKey, recognition: Recognition): void {
    const id = memoryKey(key);
    this.#recent.delete(id);
    this.#recent.set(id, recognition);
    if (this.#recent.size > MEMORY_ENTRIES) {
      const oldest = this.#recent.keys().next().value;
      if (oldest !== undefined) this.#recent.delete(oldest);
    }
  }
}

const memoryKey = ({ sha256, language, engineVersion }: CacheKey) =>
  `${sha256}|${language}|${engineVersion}`;
