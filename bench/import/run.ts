/**
 * Import benchmark: generates synthetic JSONL files (10,000 and 100,000 documents) in a temp
 * directory and imports each, in a fresh process, into PGlite (on disk) and into the local
 * PostgreSQL (a throwaway database, dropped afterwards). Prints documents/s and peak RSS; the
 * two sizes side by side show whether memory stays flat as the file grows. The import is CPU
 * bound on both sides (parsing, hashing, chunking, COPY encoding in the importer; COPY, indexes
 * and WAL in the server), so other load on the machine lowers the figures: the load average
 * before and after is printed with them.
 *
 *   npm run bench:import                 # BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/postgres
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { syntheticDocuments } from '../../scripts/synthetic-corpus.ts';

const run = promisify(execFile);
const ONCE = fileURLToPath(new URL('./import-once.ts', import.meta.url));
const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SIZES = [10_000, 100_000];

async function writeCorpus(file: string, count: number): Promise<void> {
  const out = createWriteStream(file);
  for (const doc of syntheticDocuments(count, 7)) {
    if (!out.write(`${JSON.stringify(doc)}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** `target`: DATABASE_URL for PostgreSQL, or DATA_DIR for PGlite. */
async function importOnce(file: string, target: { DATABASE_URL: string } | { DATA_DIR: string }) {
  const env: NodeJS.ProcessEnv = { ...process.env, ...target };
  if (!('DATABASE_URL' in target)) delete env.DATABASE_URL;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', ONCE, file], {
    env,
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, number>;
}

async function withThrowawayDatabase<T>(use: (url: string) => Promise<T>): Promise<T> {
  const name = `bench_import_${process.pid}_${Date.now()}`;
  const admin = postgres(PG_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE "${name}"`);
  try {
    const url = new URL(PG_URL);
    url.pathname = `/${name}`;
    return await use(url.toString());
  } finally {
    await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  }
}

const load = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(' ');
const dir = mkdtempSync(path.join(tmpdir(), 'bench-import-'));
console.log(`load average before: ${load()}`);
try {
  const rows: Record<string, string | number>[] = [];
  for (const size of SIZES) {
    const file = path.join(dir, `docs-${size}.jsonl`);
    await writeCorpus(file, size);
    const mb = Math.round(statSync(file).size / 1e6);
    const pglite = await importOnce(file, { DATA_DIR: path.join(dir, `pglite-${size}`) });
    rows.push({ database: 'PGlite (disk)', documents: size, fileMb: mb, ...pglite });
    const pg = await withThrowawayDatabase((url) => importOnce(file, { DATABASE_URL: url }));
    rows.push({ database: 'PostgreSQL', documents: size, fileMb: mb, ...pg });
  }
  console.table(
    rows.map(({ database, documents, fileMb, added, seconds, docsPerSecond, peakRssMb }) => ({
      database,
      documents,
      'file MB': fileMb,
      added,
      s: seconds,
      'docs/s': docsPerSecond,
      'peak RSS MB': peakRssMb,
    })),
  );
  console.log(`load average after: ${load()}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
