/**
 * `TrainingJob.curve(maxPoints: 500)` on a job with BENCH_POINTS stored points, through the real
 * yoga server (yoga.fetch), on PGlite and on PostgreSQL: latency p50 / p95 over BENCH_CALLS
 * calls, and the process's RSS before and after (the curve is computed in the database; memory
 * here must not grow with the length of the run).
 *
 * PostgreSQL: DATABASE_URL's server, else the local 127.0.0.1:5432 (user postgres, trust) when
 * reachable; a throwaway database is created there and dropped afterwards.
 *
 * Usage: `npm run bench:curve`. Env: BENCH_POINTS=100000, BENCH_CALLS=50.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { pino } from 'pino';
import postgres from 'postgres';
import { createApp } from '../../src/app.ts';
import { TokenStore } from '../../src/auth/tokens.ts';
import { loadConfig } from '../../src/config.ts';
import { type Database, openDatabase } from '../../src/db/client.ts';
import { encodeGlobalID } from '../../src/schema/global-ids.ts';
import { insertPoints, newJob, noisyPointRows } from '../../test/support/fixtures.ts';
import { seedTrainingData } from '../../test/support/training-data.ts';

const POINTS = Number(process.env.BENCH_POINTS ?? 100_000);
const CALLS = Number(process.env.BENCH_CALLS ?? 50);
const TOKEN = 'bench-curve-token-0123456789';
const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;

async function measure(label: string, database: Database) {
  await database.migrate();
  const app = createApp({
    database,
    logger: pino({ level: 'silent' }),
    tokens: new TokenStore([{ token: TOKEN, role: 'admin' }]),
    // no response cache: every call computes the curve, as after each new point of a live run
    settings: loadConfig({ OCR_WORKERS: '1', RESPONSE_CACHE_TTL_MS: '0' }),
  });
  try {
    await seedTrainingData(database.db);
    const job = await newJob(database.db, 'long run');
    await insertPoints(database.db, noisyPointRows(job.id, POINTS));
    const body = JSON.stringify({
      query:
        'query ($id: ID!) { trainingJob(id: $id) { curve(maxPoints: 500) { step loss valLoss learningRate } } }',
      variables: { id: encodeGlobalID('TrainingJob', job.id) },
    });
    const call = async () => {
      const response = await app.yoga.fetch('http://bench/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body,
      });
      const result = (await response.json()) as {
        data?: { trainingJob: { curve: unknown[] } };
        errors?: unknown;
      };
      if (!result.data) throw new Error(JSON.stringify(result.errors));
      return result.data.trainingJob.curve.length;
    };
    await call(); // warm: plans and caches
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    const times: number[] = [];
    let points = 0;
    for (let i = 0; i < CALLS; i++) {
      const started = performance.now();
      points = await call();
      times.push(performance.now() - started);
    }
    const rssAfter = process.memoryUsage().rss;
    times.sort((a, b) => a - b);
    const pct = (p: number) =>
      (times[Math.min(times.length - 1, Math.floor(p * times.length))] ?? 0).toFixed(1);
    console.log(
      `${label}: curve(maxPoints: 500) of ${POINTS} points -> ${points} points; ${CALLS} calls: p50 ${pct(0.5)} ms, p95 ${pct(0.95)} ms; RSS ${mb(rssBefore)} before, ${mb(rssAfter)} after`,
    );
  } finally {
    await app.yoga.dispose();
    await database.close();
  }
}

/** A throwaway database on the PostgreSQL server, or undefined when none answers. */
async function throwawayDatabase(): Promise<
  { url: string; drop: () => Promise<void> } | undefined
> {
  const admin = new URL(SERVER_URL);
  admin.pathname = '/postgres';
  const sql = postgres(admin.toString(), { max: 1, onnotice: () => {}, connect_timeout: 3 });
  const name = `bench_curve_${randomBytes(4).toString('hex')}`;
  try {
    await sql.unsafe(`create database "${name}"`);
  } catch (error) {
    await sql.end({ timeout: 1 });
    console.log(`PostgreSQL: skipped, ${admin.host} did not answer (${(error as Error).message})`);
    return undefined;
  }
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await sql.unsafe(`drop database if exists "${name}" with (force)`);
      await sql.end({ timeout: 5 });
    },
  };
}

console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
await measure('PGlite', await openDatabase({ kind: 'pglite' }));
const server = await throwawayDatabase();
if (server) {
  try {
    await measure('PostgreSQL', await openDatabase({ kind: 'postgres', url: server.url }));
  } finally {
    await server.drop();
  }
}
console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
