import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { ocrCache } from '../db/schema.ts';
import type { OcrLanguage } from './constants.ts';
import type { Recognition } from './engine.ts';

/** Same bytes, same language, same engine and models: same text. */
export type CacheKey = { sha256: string; language: OcrLanguage; engineVersion: string };

export async function cachedRecognition(db: Db, key: CacheKey): Promise<Recognition | undefined> {
  const [row] = await db
    .select({ text: ocrCache.text, confidence: ocrCache.confidence })
    .from(ocrCache)
    .where(
      and(
        eq(ocrCache.sha256, key.sha256),
        eq(ocrCache.language, key.language),
        eq(ocrCache.engineVersion, key.engineVersion),
      ),
    );
  return row;
}

export async function cacheRecognition(db: Db, key: CacheKey, recognition: Recognition) {
  await db
    .insert(ocrCache)
    .values({ ...key, ...recognition })
    .onConflictDoNothing();
}
