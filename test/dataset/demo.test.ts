import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { DEMO_CORPUS_SIZE, syntheticDocuments } from '../../scripts/synthetic-corpus.ts';
import { type AppConfig, loadConfig } from '../../src/config.ts';
import { DEMO_CORPUS_FILE } from '../../src/dataset/demo.ts';
import { startServer } from '../../src/server.ts';
import { BUNDESLAND_CODES } from '../../src/vocabulary/bundeslaender.ts';
import { ADMIN_TOKEN } from '../support/app.ts';
import { createTestDatabase, onPostgres, type TestDatabase } from '../support/databases.ts';

let dir: string;
let database: TestDatabase | undefined;
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'demo-'));
  if (onPostgres()) database = await createTestDatabase();
});
afterAll(async () => {
  await database?.close();
  rmSync(dir, { recursive: true, force: true });
});

const config = (demoData: boolean): AppConfig =>
  loadConfig({
    PORT: '0',
    DATABASE_URL: database?.url,
    DATA_DIR: dir,
    AUTH_TOKENS: `${ADMIN_TOKEN}:admin`,
    DEMO_DATA: String(demoData),
    SHUTDOWN_TIMEOUT_MS: '1000',
    WORKER: 'false',
  });

async function gql<T>(url: string, query: string): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({ query }),
  });
  const body = (await response.json()) as { data: T; errors?: unknown };
  expect(body.errors).toBeUndefined();
  return body.data;
}

const total = async (url: string) =>
  (
    await gql<{ datasetStats: { totalDocuments: number } }>(
      url,
      '{ datasetStats { totalDocuments } }',
    )
  ).datasetStats.totalDocuments;

test('the committed demo corpus is what the generator makes (run `npm run demo:generate`)', () => {
  const expected = [...syntheticDocuments(DEMO_CORPUS_SIZE)].map((d) => `${JSON.stringify(d)}\n`);
  expect(readFileSync(DEMO_CORPUS_FILE, 'utf8')).toBe(expected.join(''));
});

test('the demo corpus loads at start into an empty database only, covering 16 states × 4 types', async () => {
  const logger = pino({ level: 'silent' });

  const without = await startServer(config(false), logger);
  try {
    await without.demoData;
    expect(await total(without.url)).toBe(0);
  } finally {
    await without.stop();
  }

  const server = await startServer(config(true), logger);
  try {
    // The server answers while the corpus loads in the background.
    expect((await fetch(new URL('/health', server.url))).status).toBe(200);
    await server.demoData;
    const perState = await gql<Record<string, { byDocType: { key: string; count: number }[] }>>(
      server.url,
      `{ ${BUNDESLAND_CODES.map((s) => `${s}: datasetStats(bundeslaender: ["${s}"]) { byDocType { key count } }`).join(' ')} }`,
    );
    for (const state of BUNDESLAND_CODES) {
      const types = perState[state]?.byDocType ?? [];
      expect(types).toHaveLength(4);
      for (const { key, count } of types) expect(count, `${state} ${key}`).toBeGreaterThan(0);
    }
    const stats = await gql<{
      datasetStats: { totalDocuments: number; trainingAllowed: number; totalChunks: number };
    }>(server.url, '{ datasetStats { totalDocuments trainingAllowed totalChunks } }');
    expect(stats.datasetStats.totalDocuments).toBe(DEMO_CORPUS_SIZE);
    expect(stats.datasetStats.trainingAllowed).toBeLessThan(DEMO_CORPUS_SIZE);
    expect(stats.datasetStats.totalChunks).toBeGreaterThan(DEMO_CORPUS_SIZE);
  } finally {
    await server.stop();
  }

  const again = await startServer(config(true), logger);
  try {
    await again.demoData;
    expect(await total(again.url)).toBe(DEMO_CORPUS_SIZE);
  } finally {
    await again.stop();
  }
}, 180_000);
