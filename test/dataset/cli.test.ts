import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { count } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { documents } from '../../src/db/dataset-tables.ts';
import { lockDirectory } from '../../src/db/dir-lock.ts';
import { EventBus } from '../../src/events/bus.ts';
import { startPgRelay } from '../../src/events/pg-relay.ts';
import type { AppTopics } from '../../src/events/topics.ts';
import {
  createTestDatabase,
  onPostgres,
  repoRoot,
  type TestDatabase,
} from '../support/databases.ts';
import { jsonl, record } from './helpers.ts';

const run = promisify(execFile);
const CLI = path.join(repoRoot, 'src/cli/import-documents.ts');

let dir: string;
/** On PostgreSQL the CLI imports into a test database; on PGlite into a fresh DATA_DIR. */
let database: TestDatabase | undefined;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'import-cli-'));
  if (onPostgres()) database = await createTestDatabase();
});
afterAll(async () => {
  await database?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the CLI as `npm run import` would, without a terminal; never throws on exit codes. */
async function cli(...args: string[]) {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: path.join(dir, 'data'),
    LOG_LEVEL: 'silent',
  };
  if (database?.url) env.DATABASE_URL = database.url;
  else delete env.DATABASE_URL;
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', CLI, ...args], {
      cwd: repoRoot,
      env,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const file = (name: string, content: string) => {
  const target = path.join(dir, name);
  writeFileSync(target, content);
  return target;
};

test('usage errors and unreadable files exit non-zero before touching the database', async () => {
  expect((await cli()).code).toBe(2);
  const missing = await cli(path.join(dir, 'missing.jsonl'));
  expect(missing.code).toBe(1);
  expect(missing.stderr).toMatch(/cannot read .*missing\.jsonl/);
});

test('imports a file, reports added / skipped / rejected with line numbers, and is idempotent', async () => {
  const good = file(
    'docs.jsonl',
    `${jsonl([record(), record(), record({ bundesland: 'Bayern' }), record(), '{oops'])}\n`,
  );
  // On PostgreSQL, servers hear of what the CLI stored (their caches drop it).
  const heard: AppTopics['documents'][] = [];
  const events = new EventBus<AppTopics>();
  events.subscribe('documents', (e) => heard.push(e));
  const relay =
    database &&
    (await startPgRelay({
      sql: database.sql!,
      events,
      readJob: async () => undefined,
      logger: pino({ level: 'silent' }),
    }));

  const first = await cli(good);
  expect(first.code).toBe(0);
  expect(first.stdout).toContain('3 added, 0 skipped (already stored), 2 rejected');
  expect(first.stdout).toContain('line 3: bundesland must be one of');
  expect(first.stdout).toMatch(/line 5: not valid JSON/);

  const again = await cli(good);
  expect(again.code).toBe(0);
  expect(again.stdout).toContain('0 added, 3 skipped (already stored), 2 rejected');

  const bad = await cli(file('bad.jsonl', jsonl(['{', record({ text: '' })])));
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain('no valid document');

  if (database) {
    const [row] = await database.db.select({ n: count() }).from(documents);
    expect(row?.n).toBe(3);
    // the second run added nothing, so it announced nothing
    await vi.waitFor(() => expect(heard).toEqual([{ added: 3 }]));
    await relay?.stop();
  }
}, 180_000);

test.skipIf(onPostgres())('refuses an embedded database another process holds', async () => {
  const unlock = lockDirectory(path.join(dir, 'data', 'pglite.lock'));
  try {
    const result = await cli(file('one.jsonl', jsonl([record()])));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`in use by process ${process.pid}`);
  } finally {
    unlock();
  }
});
