import { createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Db } from '../db/client.ts';
import { documents } from '../db/dataset-tables.ts';
import { type ImportOptions, type ImportResult, importStream } from './import.ts';

/** The bundled SYNTHETIC corpus (see demo/README.md); regenerate with `npm run demo:generate`. */
export const DEMO_CORPUS_FILE = fileURLToPath(
  new URL('../../demo/documents.jsonl', import.meta.url),
);

/**
 * Loads the demo corpus into a database that has no documents yet, through the normal import.
 * Returns null when documents were already there. Safe to race with another server doing the
 * same: duplicates are skipped by content hash.
 */
export async function loadDemoCorpus(
  db: Db,
  options?: ImportOptions,
): Promise<ImportResult | null> {
  const [existing] = await db.select({ id: documents.id }).from(documents).limit(1);
  if (existing) return null;
  return importStream(db, createReadStream(DEMO_CORPUS_FILE), options);
}
