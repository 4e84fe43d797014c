import { and, eq, inArray } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { ocrCache } from '../db/schema.ts';
import type { OcrLanguage } from './constants.ts';
import type { Recognition } from './engine.ts';

/** Same bytes, same language, same engine and models: same text. */
export type CacheKey = { sha256: string; language: OcrLanguage; engineVersion: string };

/** The cached recognitions of any of these contents (by SHA-256), in one statement. */
export async function cachedRecognitions(
  db: Db,
  sha256s: readonly string[],
  { language, engineVersion }: Omit<CacheKey, 'sha256'>,
): Promise<Map<string, Recognition>> {
  if (sha256s.length === 0) return new Map();
  const rows = await db
    .select({ sha256: ocrCache.sha256, text: ocrCache.text, confidence: ocrCache.confidence })
    .from(ocrCache)
    .where(
      and(
        inArray(ocrCache.sha256, [...new Set(sha256s)]),
        eq(ocrCache.language, language),
        eq(ocrCache.engineVersion, engineVersion),
      ),
    );
  return new Map(rows.map(({ sha256, ...recognition }) => [sha256, recognition]));
}

export async function cacheRecognition(db: Db, key: CacheKey, recognition: Recognition) {
  await db
    .insert(ocrCache)
    .values({ ...key, ...recognition })
    .onConflictDoNothing();
}
