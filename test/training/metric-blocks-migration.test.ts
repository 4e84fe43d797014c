import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { MIGRATIONS_FOLDER, openDatabase } from '../../src/db/client.ts';
import { adminUrl, type TestDatabase, withDatabase } from '../support/databases.ts';
import { insertPoints, newJob, noisyPointRows } from '../support/fixtures.ts';
import { expectedBlocks, storedBlocks } from '../support/metric-blocks.ts';
import { seedTrainingData } from '../support/training-data.ts';

/** The migrations up to (without) the one that adds `metric_blocks`, in a folder of their own. */
function migrationsBefore(tag: string): string {
  const folder = mkdtempSync(path.join(tmpdir(), 'migrations-'));
  cpSync(MIGRATIONS_FOLDER, folder, { recursive: true });
  const journalFile = path.join(folder, 'meta/_journal.json');
  const journal = JSON.parse(readFileSync(journalFile, 'utf8'));
  const at = journal.entries.findIndex((e: { tag: string }) => e.tag === tag);
  expect(at).toBeGreaterThan(0);
  journal.entries = journal.entries.slice(0, at);
  writeFileSync(journalFile, JSON.stringify(journal));
  return folder;
}

let database: TestDatabase;
let dropDatabase: () => Promise<unknown> = async () => {};
const earlier = migrationsBefore('0005_metric_blocks');

/** An empty database (not the migrated template), on PostgreSQL when DATABASE_URL is set. */
beforeAll(async () => {
  const url = process.env.DATABASE_URL;
  if (!url) {
    database = await openDatabase({ kind: 'pglite' });
    return;
  }
  const name = `training_api_blocks_${process.pid}_${Date.now()}`;
  await withDatabase(adminUrl(url), (sql) => sql.unsafe(`CREATE DATABASE "${name}"`));
  const u = new URL(url);
  u.pathname = `/${name}`;
  database = await openDatabase({ kind: 'postgres', url: u.toString() });
  dropDatabase = () =>
    withDatabase(adminUrl(url), (sql) =>
      sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
    );
});
afterAll(async () => {
  await database?.close();
  await dropDatabase();
  rmSync(earlier, { recursive: true, force: true });
});

test('the migration that adds block summaries fills them for the points stored before it', async () => {
  const { db } = database;
  if (database.kind === 'pglite') await migratePglite(db as never, { migrationsFolder: earlier });
  else await migratePostgres(db as never, { migrationsFolder: earlier });
  await seedTrainingData(db);
  const long = await newJob(db, 'before the migration');
  const short = await newJob(db, 'a short one');
  const longPoints = noisyPointRows(long.id, 1_000, 7);
  const shortPoints = noisyPointRows(short.id, 20);
  await insertPoints(db, [...longPoints, ...shortPoints]);

  await database.migrate();

  expect(await storedBlocks(db, long.id)).toEqual(expectedBlocks(longPoints));
  expect(await storedBlocks(db, short.id)).toEqual(expectedBlocks(shortPoints));
});
