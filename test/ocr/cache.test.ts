import { afterAll, beforeAll, expect, test } from 'vitest';
import { MEMORY_ENTRIES, RecognitionCache } from '../../src/ocr/cache.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';

const queries: string[] = [];
let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase({ onQuery: (sql) => queries.push(sql) });
});
afterAll(() => database.close());

const key = { language: 'deu', engineVersion: 'test-engine' } as const;
const sha = (n: number) => n.toString(16).padStart(64, '0');
const reads = () => queries.filter((q) => q.includes('from "ocr_cache"')).length;

test('a recognition is stored for every process and kept in memory by the one that has it', async () => {
  const cache = new RecognitionCache(database.db);
  await cache.put({ ...key, sha256: sha(1) }, { text: 'Zeugnis', confidence: 0.9 });
  const before = reads();
  expect(await cache.get([sha(1)], key)).toEqual(
    new Map([[sha(1), { text: 'Zeugnis', confidence: 0.9 }]]),
  );
  expect(reads()).toBe(before);

  // another process (another cache) reads it from the database once, then from memory
  const other = new RecognitionCache(database.db);
  expect((await other.get([sha(1), sha(2)], key)).get(sha(1))?.text).toBe('Zeugnis');
  expect(reads()).toBe(before + 1);
  await other.get([sha(1)], key);
  expect(reads()).toBe(before + 1);
  // not for another language: the key names it
  expect((await other.get([sha(1)], { ...key, language: 'eng' })).size).toBe(0);
  // what /metrics reports as the hit ratio: contents looked up, and found
  expect(other.counts).toEqual({ lookups: 4, hits: 2 });
});

test('memory keeps the most recently used entries only', async () => {
  const cache = new RecognitionCache(database.db);
  for (let n = 100; n < 100 + MEMORY_ENTRIES + 1; n++) {
    await cache.put({ ...key, sha256: sha(n) }, { text: `page ${n}`, confidence: 0.5 });
  }
  const before = reads();
  // the newest is in memory; the first one was let go, so it comes from the database again
  await cache.get([sha(100 + MEMORY_ENTRIES)], key);
  expect(reads()).toBe(before);
  expect((await cache.get([sha(100)], key)).get(sha(100))?.text).toBe('page 100');
  expect(reads()).toBe(before + 1);
});
