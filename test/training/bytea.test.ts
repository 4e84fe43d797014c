import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { checkpoints } from '../../src/db/schema.ts';
import { loadCheckpoint, saveCheckpoint } from '../../src/training/runner/checkpoints.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { newJob } from '../support/fixtures.ts';
import { seedTrainingData } from '../support/training-data.ts';

// Checkpoints and artifacts are bytea of up to several MB; PGlite reads and writes them through
// the database client's own hex conversion. They must come back byte for byte.

let database: TestDatabase;
beforeEach(async () => {
  database = await createTestDatabase();
  await seedTrainingData(database.db);
});
afterEach(() => database.close());

test('bytea round-trips exactly, from a view into a larger buffer too', async () => {
  const job = await newJob(database.db, 'bytes');
  const backing = randomBytes(3 * 1024 * 1024 + 7);
  // A view that starts and ends inside its buffer, as the trainer's checkpoint sections are.
  const state = new Uint8Array(backing.buffer, backing.byteOffset + 3, 3 * 1024 * 1024);
  await saveCheckpoint(database.db, job.id, { step: 7, epoch: 1, state });
  const stored = await loadCheckpoint(database.db, job.id);
  expect(stored?.state.byteLength).toBe(state.byteLength);
  expect(Buffer.compare(Buffer.from(stored!.state), Buffer.from(state))).toBe(0);

  // A small Buffer lies in Node's shared pool: only its own bytes are stored.
  const pooled = Buffer.from('checkpoint');
  expect(pooled.buffer.byteLength).toBeGreaterThan(pooled.byteLength);
  await saveCheckpoint(database.db, job.id, { step: 8, epoch: 1, state: pooled });
  expect(Buffer.from((await loadCheckpoint(database.db, job.id))!.state).toString()).toBe(
    'checkpoint',
  );

  const empty = new Uint8Array(0);
  await saveCheckpoint(database.db, job.id, { step: 8, epoch: 1, state: empty });
  expect((await loadCheckpoint(database.db, job.id))?.state.byteLength).toBe(0);
});

test('checkpoints are stored uncompressed: a write spends no time on compression', async () => {
  const job = await newJob(database.db, 'uncompressed');
  // zeros, which compression would shrink to almost nothing
  const state = new Uint8Array(256 * 1024);
  await saveCheckpoint(database.db, job.id, { step: 1, epoch: 1, state });
  const [row] = await database.db
    .select({ size: sql<number>`pg_column_size(${checkpoints.state})`.mapWith(Number) })
    .from(checkpoints);
  expect(row?.size).toBeGreaterThanOrEqual(state.byteLength);
});
