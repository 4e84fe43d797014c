/**
 * Fan-out: N concurrent SSE subscribers of one training job (1,000 / 5,000 / 10,000), in one
 * run and at the same N for each of
 *   - this API: one server process on PostgreSQL, `trainingProgress` over graphql-sse;
 *   - the prototype: `/api/v1/admin/training/metrics/stream?job_id=` (uvicorn, h11);
 *   - bare node:http writing one pre-serialized event to every stream: the ceiling of this
 *     machine, so that the other figures can be read against it.
 *
 * Two modes (BENCH_MODE):
 *   - `injected` (the default): this process plays the runner for the API: at BENCH_RATE per
 *     second, while a window is measured, it writes a metric point and the job's progress to
 *     the database and publishes the event through the PostgreSQL relay, as a runner in another
 *     process would; the server fans it out. PostgreSQL only.
 *   - `training`: the way a user deploys: the server trains a real job in the same process (its
 *     runner; the demo corpus and BENCH_EXTRA_DOCUMENTS=10240 synthetic documents more, so that
 *     the job outlasts the row; all 16 states; BENCH_BATCH_SIZE, by default the trainer's 16, or
 *     1 for the heaviest stream with ~30 times the points; a new job per row) while it serves
 *     the subscribers, who get its progress flushes (PROGRESS_FLUSH_MS, 4 per second). On
 *     PostgreSQL or on the embedded database (BENCH_DB=pglite). The delay then also holds the
 *     flush interval: a point waits for its flush.
 * Subscribers are lean raw SSE clients (one TCP socket each, see clients.ts) in child processes,
 * up to 5,000 each; the figures show their CPU next to the server's. Every event
 * carries its time (API and bare: the point's timestamp; prototype: started_at +
 * elapsed_time_ms), so each client measures the delivery delay itself.
 *
 * Usage: `npm run bench:fanout`. Needs PostgreSQL (DATABASE_URL, default the local server) and
 * the prototype's Debian packages (README "Benchmarks"). Env: BENCH_SIZES=1000,5000,10000,
 * BENCH_SECONDS=20, BENCH_RATE=2 (events/s), BENCH_TARGETS=bare,api,prototype,
 * BENCH_MODE=injected|training, BENCH_DB=postgres|pglite (the API's database in training mode),
 * BENCH_CONNECT_PARALLEL=200 (streams opened at once per client process; the size for a burst,
 * as when every dashboard reconnects after a deploy),
 * BENCH_SERVER_NODE_ARGS (e.g. `--cpu-prof`) for the API server's node, BENCH_HEAP_SNAPSHOTS=<dir>
 * to write a heap snapshot of the API server before its subscribers connect and one 2 s after
 * (compare them with heap-diff.ts; the snapshots stall the server, so its figures are not for
 * reading then), BENCH_SETUP_PROFILE=<dir> to profile the API server while its subscribers
 * connect (CPU and every allocation, see setup-profile.ts).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { eq } from 'drizzle-orm';
import { pino } from 'pino';
import postgres from 'postgres';
import { syntheticDocuments } from '../../scripts/synthetic-corpus.ts';
import { openDatabase } from '../../src/db/client.ts';
import { metricPoints, trainingJobs } from '../../src/db/schema.ts';
import { EventBus } from '../../src/events/bus.ts';
import { startPgRelay } from '../../src/events/pg-relay.ts';
import { type AppTopics, announceProgress } from '../../src/events/topics.ts';
import { encodeGlobalID } from '../../src/schema/global-ids.ts';
import { createJob, getJob, transitionJob } from '../../src/training/jobs.ts';
import { builtinTrainer } from '../../src/training/trainers/port.ts';
import { BUNDESLAND_CODES } from '../../src/vocabulary/bundeslaender.ts';
import { CONFIG_LIMITS } from '../../src/vocabulary/training.ts';
import { startCommand } from '../../test/support/processes.ts';
import { seedTrainingData } from '../../test/support/training-data.ts';
import { importDocuments } from '../support/import-documents.ts';
import { type ClientsConfig, type ClientsReport, HISTOGRAM_MS } from './protocol.ts';
import { profileSetup } from './setup-profile.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SEED = path.resolve(ROOT, '../shared/reference/seed');
const TOKEN = 'bench-admin-token-0123456789';
const SIZES = (process.env.BENCH_SIZES ?? '1000,5000,10000').split(',').map(Number);
const TARGETS = (process.env.BENCH_TARGETS ?? 'bare,api,prototype').split(',');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const RATE = Number(process.env.BENCH_RATE ?? 2);
const MODE = process.env.BENCH_MODE ?? 'injected';
const DB = process.env.BENCH_DB ?? 'postgres';
if (!['injected', 'training'].includes(MODE) || !['postgres', 'pglite'].includes(DB)) {
  throw new Error('BENCH_MODE is injected or training, BENCH_DB postgres or pglite');
}
if (MODE === 'injected' && DB === 'pglite') {
  throw new Error('injected events need PostgreSQL: this process writes to the API database');
}
/** Training mode: the job's batch size (the trainer's default; 1 sends ~30 times the points). */
const BATCH_SIZE = Number(process.env.BENCH_BATCH_SIZE ?? CONFIG_LIMITS.batchSize.default);
/** Training mode: synthetic documents imported besides the demo corpus's 640. */
const EXTRA_DOCUMENTS = Number(process.env.BENCH_EXTRA_DOCUMENTS ?? 10240);
const CONNECT_PARALLEL = Number(process.env.BENCH_CONNECT_PARALLEL ?? 200);
const PER_PROCESS = 5000;
const PORTS = { bare: 4310, api: 4300, prototype: 8100 };
const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SETUP_PROFILE = process.env.BENCH_SETUP_PROFILE
  ? path.resolve(process.env.BENCH_SETUP_PROFILE)
  : null;
const INSPECTOR_PORT = 9339;
const SNAPSHOTS = process.env.BENCH_HEAP_SNAPSHOTS
  ? path.resolve(process.env.BENCH_HEAP_SNAPSHOTS)
  : null;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const children = new Set<ChildProcess>();
const cleanUps: Array<() => void> = [];
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  for (const cleanUp of cleanUps) cleanUp();
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

/** Runs a command with the open-file limit raised to the hard limit (10,000 sockets each side). */
function spawnRaised(command: string, args: string[], env: Record<string, string>) {
  const child = spawn(
    'sh',
    ['-c', 'ulimit -n "$(ulimit -Hn)" && exec "$0" "$@"', command, ...args],
    { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

async function stop(child: ChildProcess) {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/**
 * CPU seconds and resident memory of a process and its descendants, and the CPU seconds of the
 * process's main thread alone, from /proc.
 */
function usage(pid: number): { cpuS: number; mainS: number; rssKb: number } {
  const tree = (p: number): number[] => {
    let kids: number[] = [];
    try {
      kids = readFileSync(`/proc/${p}/task/${p}/children`, 'utf8')
        .split(' ')
        .filter(Boolean)
        .map(Number);
    } catch {}
    return [p, ...kids.flatMap(tree)];
  };
  let cpuS = 0;
  let rssKb = 0;
  for (const p of tree(pid)) {
    try {
      cpuS += cpuSecondsOf(`/proc/${p}/stat`);
      rssKb += Number(readFileSync(`/proc/${p}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)?.[1] ?? 0);
    } catch {}
  }
  return { cpuS, mainS: cpuSecondsOf(`/proc/${pid}/task/${pid}/stat`), rssKb };
}

function cpuSecondsOf(statPath: string): number {
  try {
    const stat = readFileSync(statPath, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Waits until `server` answers `url`; fails if it exits first (a port still taken, say). */
async function waitReady(server: ChildProcess, url: string) {
  let exited = false;
  server.once('exit', () => {
    exited = true;
  });
  for (let i = 0; i < 300 && !exited; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await sleep(200);
  }
  throw new Error(`${url} did not become ready`);
}

/**
 * Has `server` (started with --heapsnapshot-signal=SIGUSR2) write a heap snapshot into
 * SNAPSHOTS, named `name`. V8 writes it on the server's main thread: once the file exists and
 * the server answers `url` again, it is complete.
 */
async function heapSnapshot(server: ChildProcess, url: string, name: string) {
  if (!SNAPSHOTS) return;
  const known = new Set(readdirSync(SNAPSHOTS));
  server.kill('SIGUSR2');
  for (;;) {
    await sleep(500);
    const made = readdirSync(SNAPSHOTS).find((f) => f.endsWith('.heapsnapshot') && !known.has(f));
    if (
      made &&
      (await fetch(url).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      renameSync(path.join(SNAPSHOTS, made), path.join(SNAPSHOTS, name));
      console.log(`heap snapshot ${path.join(SNAPSHOTS, name)}`);
      return;
    }
  }
}

type Row = {
  label: string;
  n: number;
  connected: number;
  connectS: number;
  /** From sending a stream's request to its first update. */
  setupP50: number;
  setupP99: number;
  /** Streams that got no first update, and subscribed ones that broke off, by reason. */
  failures: Record<string, number>;
  drops: Record<string, number>;
  /** The server's main-thread CPU while the streams opened, per stream (training included). */
  setupMainMs: number;
  /** The same for all the server's threads and child processes. */
  setupAllMs: number;
  /** The client processes' CPU while they opened the streams, per stream. */
  setupClientsMs: number;
  eventsPerClient: number;
  minEventsPerClient: number;
  /** Time stamps (metric points) per event received. */
  stampsPerEvent: number;
  /** Percentiles of the points' age at receipt (training mode: the flush interval is in it). */
  ageP50: number;
  ageP99: number;
  p50: number;
  p99: number;
  max: number;
  cpuPercent: number;
  mainCpuPercent: number;
  clientsCpuPercent: number;
  cpuUsPerEvent: number;
  rssPerSubscriberKb: number;
  /** The same at the end of the window, after its steady fan-out. */
  rssEndPerSubscriberKb: number;
  rssMb: number;
  load: number;
};

/**
 * Starts client processes for `n` subscribers, measures one window, and closes them.
 * `publishing` switches the runner on for the window only: subscribing thousands of clients
 * while events already fan out to the first ones measures neither well.
 */
async function measure(
  label: string,
  n: number,
  serverPid: number,
  config: Omit<ClientsConfig, 'count' | 'parallel'>,
  publishing: (on: boolean) => void = () => {},
  snapshot: (stage: 'before' | 'connected') => Promise<void> = async () => {},
  profiling = false,
): Promise<Row> {
  await snapshot('before');
  const profiled =
    profiling && SETUP_PROFILE ? await profileSetup(INSPECTOR_PORT, SETUP_PROFILE) : null;
  const before = usage(serverPid);
  const procs = Array.from({ length: Math.ceil(n / PER_PROCESS) }, (_, i) =>
    spawnRaised(process.execPath, ['--import', 'tsx', 'bench/fanout/clients.ts'], {
      BENCH_CLIENTS: JSON.stringify({
        ...config,
        count: Math.min(PER_PROCESS, n - i * PER_PROCESS),
        parallel: CONNECT_PARALLEL,
      } satisfies ClientsConfig),
    }),
  );
  const message = <T>(child: ChildProcess, type: string) =>
    new Promise<T>((resolve, reject) => {
      child.on('message', (m: { type: string }) => {
        if (m.type === type) resolve(m as T);
      });
      child.on('exit', () => reject(new Error(`client process exited before ${type}`)));
    });
  const connected = await Promise.all(
    procs.map((p) =>
      message<{ connected: number; firstSentAt: number; doneAt: number; cpuS: number }>(
        p,
        'connected',
      ),
    ),
  );
  const connectS =
    (Math.max(...connected.map((c) => c.doneAt)) -
      Math.min(...connected.map((c) => c.firstSentAt))) /
    1000;
  const setUp = usage(serverPid);
  await profiled?.(connected.reduce((sum, c) => sum + c.connected, 0));
  publishing(true);
  await sleep(2000);
  const idle = usage(serverPid);
  await snapshot('connected');
  for (const p of procs) p.send({ type: 'measure' });
  const start = usage(serverPid);
  const startedAt = Date.now();
  await sleep(SECONDS * 1000);
  const end = usage(serverPid);
  publishing(false);
  const wallS = (Date.now() - startedAt) / 1000;
  const load = loadavg()[0] ?? 0;
  const reports = await Promise.all(
    procs.map((p) => {
      const report = message<{ report: ClientsReport }>(p, 'report');
      p.send({ type: 'report' });
      return report;
    }),
  );
  for (const p of procs) p.send({ type: 'close' });
  await Promise.all(procs.map((p) => new Promise((r) => p.once('exit', r))));

  const histogram = new Array<number>(HISTOGRAM_MS + 1).fill(0);
  const pointAgeHistogram = new Array<number>(HISTOGRAM_MS + 1).fill(0);
  const setupHistogram = new Array<number>(HISTOGRAM_MS + 1).fill(0);
  const rates: number[] = [];
  let events = 0;
  for (const { report } of reports) {
    report.histogram.forEach((count, ms) => {
      histogram[ms]! += count;
    });
    report.pointAgeHistogram.forEach((count, ms) => {
      pointAgeHistogram[ms]! += count;
    });
    report.setupHistogram.forEach((count, ms) => {
      setupHistogram[ms]! += count;
    });
    rates.push(...report.events.map((e) => e / (report.windowMs / 1000)));
    events += report.events.reduce((a, b) => a + b, 0);
  }
  const samples = histogram.reduce((a, b) => a + b, 0);
  const percentileOf = (buckets: number[], q: number) => {
    const total = buckets.reduce((a, b) => a + b, 0);
    let seen = 0;
    for (let ms = 0; total > 0 && ms < buckets.length; ms++) {
      seen += buckets[ms]!;
      if (seen >= q * total) return ms;
    }
    return Number.NaN;
  };
  const percentile = (q: number) => percentileOf(histogram, q);
  const subscribed = connected.reduce((sum, c) => sum + c.connected, 0);
  const merged = (pick: (r: ClientsReport) => Record<string, number>) => {
    const counts: Record<string, number> = {};
    for (const { report } of reports) {
      for (const [reason, n] of Object.entries(pick(report)))
        counts[reason] = (counts[reason] ?? 0) + n;
    }
    return counts;
  };
  return {
    label,
    n,
    connected: subscribed,
    connectS,
    failures: merged((r) => r.failures),
    drops: merged((r) => r.drops),
    setupP50: percentileOf(setupHistogram, 0.5),
    setupP99: percentileOf(setupHistogram, 0.99),
    setupMainMs: (1000 * (setUp.mainS - before.mainS)) / Math.max(1, subscribed),
    setupAllMs: (1000 * (setUp.cpuS - before.cpuS)) / Math.max(1, subscribed),
    setupClientsMs:
      (1000 * connected.reduce((sum, c) => sum + c.cpuS, 0)) / Math.max(1, subscribed),
    stampsPerEvent: pointAgeHistogram.reduce((a, b) => a + b, 0) / Math.max(1, events),
    ageP50: percentileOf(pointAgeHistogram, 0.5),
    ageP99: percentileOf(pointAgeHistogram, 0.99),
    eventsPerClient: rates.reduce((a, b) => a + b, 0) / Math.max(1, rates.length),
    minEventsPerClient: rates.length ? Math.min(...rates) : 0,
    p50: samples ? percentile(0.5) : Number.NaN,
    p99: samples ? percentile(0.99) : Number.NaN,
    max: samples ? histogram.findLastIndex((c) => c > 0) : Number.NaN,
    cpuPercent: (100 * (end.cpuS - start.cpuS)) / wallS,
    mainCpuPercent: (100 * (end.mainS - start.mainS)) / wallS,
    clientsCpuPercent: (100 * reports.reduce((sum, { report }) => sum + report.cpuS, 0)) / wallS,
    cpuUsPerEvent: (1e6 * (end.cpuS - start.cpuS)) / Math.max(1, events),
    rssPerSubscriberKb: (idle.rssKb - before.rssKb) / Math.max(1, subscribed),
    rssEndPerSubscriberKb: (end.rssKb - before.rssKb) / Math.max(1, subscribed),
    rssMb: idle.rssKb / 1024,
    load,
  };
}

const reasons = (counts: Record<string, number>) =>
  Object.keys(counts).length === 0
    ? 'none'
    : Object.entries(counts)
        .map(([reason, n]) => `${n} ${reason}`)
        .join(', ');

const rows: Row[] = [];
function print(row: Row) {
  rows.push(row);
  console.log(
    [
      row.label.padEnd(9),
      `N=${String(row.n).padStart(5)}`,
      `subscribed ${String(row.connected).padStart(5)} in ${row.connectS.toFixed(1).padStart(5)} s (${(row.connected / row.connectS).toFixed(0).padStart(5)}/s, first update p50 ${String(row.setupP50).padStart(5)} p99 ${String(row.setupP99).padStart(5)} ms, server CPU each ${row.setupMainMs.toFixed(2)} ms main thread, ${row.setupAllMs.toFixed(2)} ms in all, clients ${row.setupClientsMs.toFixed(2)} ms)`,
      `events/s/client ${row.eventsPerClient.toFixed(2)} (min ${row.minEventsPerClient.toFixed(2)}, ${row.stampsPerEvent.toFixed(1)} points each)`,
      `delay p50 ${String(row.p50).padStart(5)} p99 ${String(row.p99).padStart(5)} max ${String(row.max).padStart(5)} ms`,
      `point age p50 ${String(row.ageP50).padStart(5)} p99 ${String(row.ageP99).padStart(5)} ms`,
      `CPU ${row.cpuPercent.toFixed(0).padStart(3)}% (main thread ${row.mainCpuPercent.toFixed(0)}%, clients ${row.clientsCpuPercent.toFixed(0)}%) ${row.cpuUsPerEvent.toFixed(0).padStart(4)} µs/event`,
      `RSS ${row.rssMb.toFixed(0).padStart(4)} MB ${row.rssPerSubscriberKb.toFixed(1).padStart(5)} KB/subscriber (${row.rssEndPerSubscriberKb.toFixed(1)} at the end)`,
      `failed ${reasons(row.failures)}, dropped ${reasons(row.drops)}`,
      `load ${row.load.toFixed(1)}`,
    ].join('  '),
  );
}

// --- the API's database, and in injected mode its runner: progress published through the relay

/** A fresh database on the PostgreSQL server, dropped at exit. */
async function freshDatabase(): Promise<string> {
  const dbName = `bench_fanout_${process.pid}`;
  const admin = postgres(SERVER_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE "${dbName}"`);
  await admin.end();
  cleanUps.push(() =>
    execFileSync('psql', [SERVER_URL, '-qc', `DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`]),
  );
  return Object.assign(new URL(SERVER_URL), { pathname: `/${dbName}` }).toString();
}

/**
 * Plays the runner: a job TRAINING in the database, and while `publishing`, a point and the
 * job's progress written and announced through the relay at RATE per second.
 */
async function injectedRunner(dbUrl: string) {
  const database = await openDatabase({ kind: 'postgres', url: dbUrl });
  await database.migrate();
  const events = new EventBus<AppTopics>();
  const relay = await startPgRelay({
    sql: database.sql!,
    events,
    readJob: (id) => getJob(database.db, id),
    logger: pino({ level: 'warn' }),
  });
  await seedTrainingData(database.db);
  const created = await createJob(database.db, builtinTrainer, {
    name: 'fan-out',
    bundeslaender: ['NW'],
    epochs: 100,
  });
  await transitionJob(database.db, created.id, 'claim', {
    startedAt: new Date(),
    totalSteps: 1_000_000,
    estimatedCompletion: new Date(Date.now() + 86_400_000),
  });
  await transitionJob(database.db, created.id, 'startTraining');
  let step = 0;
  const runner = {
    jobId: encodeGlobalID('TrainingJob', created.id),
    publishing: false,
    async stop() {
      clearInterval(driver);
      await relay.stop();
      await database.close();
    },
  };
  const driver = setInterval(async () => {
    if (!runner.publishing) return;
    step += 1;
    const recordedAt = new Date();
    const newPoints = await database.db
      .insert(metricPoints)
      .values({ jobId: created.id, step, epoch: 1, loss: 1 / step, learningRate: 5e-5, recordedAt })
      .returning();
    const [job] = await database.db
      .update(trainingJobs)
      .set({ currentStep: step, progress: step / 10_000, loss: 1 / step, updatedAt: recordedAt })
      .where(eq(trainingJobs.id, created.id))
      .returning();
    if (!job) return;
    announceProgress(events, job, newPoints);
  }, 1000 / RATE);
  return runner;
}

const dbUrl = DB === 'postgres' ? await freshDatabase() : null;
const injected = MODE === 'injected' && dbUrl ? await injectedRunner(dbUrl) : null;

const subscriptionBody = (jobId: string) =>
  JSON.stringify({
    query: `subscription($jobId: ID!) { trainingProgress(jobId: $jobId) {
    job { id status progress currentStep loss learningRate }
    elapsedTimeMs estimatedRemainingMs
    newPoints { step loss learningRate timestamp }
  } }`,
    variables: { jobId },
  });

/** POSTs a GraphQL operation to the API as the bench's admin. */
async function graphql<T>(query: string, variables: Record<string, unknown>): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${PORTS.api}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: unknown[] };
  if (!body.data || body.errors) throw new Error(`GraphQL: ${JSON.stringify(body.errors)}`);
  return body.data;
}

/**
 * Training mode: a job the server trains itself, long enough for a row (all states, batch size
 * 1, 100 epochs), once it is TRAINING. Its ID.
 */
async function startTrainingJob(): Promise<string> {
  await demoCorpusLoaded();
  await importExtraDocuments();
  const { createTrainingJob } = await graphql<{ createTrainingJob: { id: string } }>(
    `mutation($input: TrainingConfigInput!) { createTrainingJob(input: $input) { id } }`,
    {
      input: {
        name: 'fan-out',
        bundeslaender: BUNDESLAND_CODES,
        epochs: 100,
        batchSize: BATCH_SIZE,
      },
    },
  );
  for (;;) {
    const { trainingJob } = await graphql<{ trainingJob: { status: string } | null }>(
      `query($id: ID!) { trainingJob(id: $id) { status } }`,
      { id: createTrainingJob.id },
    );
    if (trainingJob?.status === 'TRAINING') return createTrainingJob.id;
    if (trainingJob?.status !== 'QUEUED' && trainingJob?.status !== 'PREPARING') {
      throw new Error(`the bench's job is ${trainingJob?.status} instead of TRAINING`);
    }
    await sleep(200);
  }
}

/**
 * More synthetic documents than the demo corpus's, so that a job at the default batch size
 * trains for a whole row (the demo corpus alone takes it through 100 epochs in ~15 s; with 2,560
 * more a faster machine still finished it within a 20 s row), imported
 * the way staff import theirs.
 */
async function importExtraDocuments(): Promise<void> {
  if (EXTRA_DOCUMENTS === 0) return;
  const documents = [...syntheticDocuments(EXTRA_DOCUMENTS, 2)].map((d) => JSON.stringify(d));
  await importDocuments(`http://127.0.0.1:${PORTS.api}/graphql`, TOKEN, documents.join('\n'));
}

/**
 * The server loads the demo corpus after it is ready (server.ts): a job created before would
 * find no documents. Loaded when the count is above 0 and stays put for a poll.
 */
async function demoCorpusLoaded(): Promise<void> {
  let before = -1;
  for (;;) {
    const { datasetStats } = await graphql<{ datasetStats: { totalDocuments: number } }>(
      'query { datasetStats { totalDocuments } }',
      {},
    );
    if (datasetStats.totalDocuments > 0 && datasetStats.totalDocuments === before) return;
    before = datasetStats.totalDocuments;
    await sleep(500);
  }
}

// --- the targets ----------------------------------------------------------------------------

async function bare(n: number) {
  const server = spawnRaised(process.execPath, ['--import', 'tsx', 'bench/fanout/bare-sse.ts'], {
    PORT: String(PORTS.bare),
    BENCH_RATE: String(RATE),
  });
  await waitReady(server, `http://127.0.0.1:${PORTS.bare}/ready`);
  print(
    await measure('bare node', n, server.pid!, {
      kind: 'api',
      url: `http://127.0.0.1:${PORTS.bare}/`,
      headers: {},
    }),
  );
  await stop(server);
}

async function api(n: number) {
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  if (SNAPSHOTS) {
    mkdirSync(SNAPSHOTS, { recursive: true });
    nodeArgs.push('--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${SNAPSHOTS}`);
  }
  if (SETUP_PROFILE) {
    mkdirSync(SETUP_PROFILE, { recursive: true });
    nodeArgs.push(`--inspect=127.0.0.1:${INSPECTOR_PORT}`);
  }
  const [node, ...startArgs] = startCommand();
  const server = spawnRaised(node as string, [...nodeArgs, ...startArgs], {
    PORT: String(PORTS.api),
    ...(dbUrl ? { DATABASE_URL: dbUrl } : {}),
    AUTH_TOKENS: `${TOKEN}:admin`,
    DATA_DIR: mkdtempSync(path.join(tmpdir(), 'bench-fanout-')),
    // training mode trains on the demo corpus; injected mode brings its own job
    DEMO_DATA: String(MODE === 'training'),
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    // every bench subscriber uses the one token
    MAX_STREAMS_PER_TOKEN: String(n),
  });
  await waitReady(server, `http://127.0.0.1:${PORTS.api}/ready`);
  const jobId = injected?.jobId ?? (await startTrainingJob());
  print(
    await measure(
      MODE === 'training' ? `API+train${DB === 'pglite' ? ' (PGlite)' : ''}` : 'this API',
      n,
      server.pid!,
      {
        kind: 'api',
        url: `http://127.0.0.1:${PORTS.api}/graphql/stream`,
        body: subscriptionBody(jobId),
        headers: { authorization: `Bearer ${TOKEN}` },
      },
      (on) => {
        if (injected) injected.publishing = on;
      },
      (stage) =>
        heapSnapshot(
          server,
          `http://127.0.0.1:${PORTS.api}/ready`,
          `api-${n}-${stage}.heapsnapshot`,
        ),
      true,
    ),
  );
  await stop(server);
}

async function prototype(n: number) {
  const base = `http://127.0.0.1:${PORTS.prototype}/api/v1/admin/training`;
  const pid = execFileSync(path.join(SEED, 'run-seed.sh'), [String(PORTS.prototype), '1', 'h11'], {
    encoding: 'utf8',
  }).trim();
  const stopSeed = () => execFileSync(path.join(SEED, 'stop-seed.sh'), [pid]);
  cleanUps.push(stopSeed);
  const res = await fetch(`${base}/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'fan-out', bundeslaender: ['NW'], epochs: 100 }),
  });
  const { id } = (await res.json()) as { id: string };
  let startedAt: string | null = null;
  while (!startedAt) {
    const job = (await (await fetch(`${base}/jobs/${id}`)).json()) as { started_at: string | null };
    startedAt = job.started_at;
    if (!startedAt) await sleep(100);
  }
  print(
    await measure('prototype', n, Number(pid), {
      kind: 'prototype',
      url: `${base}/metrics/stream?job_id=${id}`,
      headers: {},
      // Python's local time without a zone, which Date.parse reads as local time too.
      startedAtMs: Date.parse(startedAt),
    }),
  );
  stopSeed();
  cleanUps.splice(cleanUps.indexOf(stopSeed), 1);
}

console.log(
  `fan-out: one job, ${MODE === 'training' ? `trained by the API server (${DB}, batch size ${BATCH_SIZE})` : `${RATE} events/s injected`}, ${SECONDS} s window per row, ${CONNECT_PARALLEL} streams opened at once per client process, up to ${PER_PROCESS} subscribers per client process; ${process.env.HOSTNAME ?? ''} load ${loadavg()[0]?.toFixed(1)}\n`,
);
const run = { bare, api, prototype } as Record<string, (n: number) => Promise<void>>;
for (const n of SIZES) {
  for (const target of TARGETS) await run[target]?.(n);
}
await injected?.stop();

console.log(`
delay: of each event, from its newest time stamp to its receipt (API and bare: a metric point's
timestamp, set just before it is written and published; in training mode the newest point of a
flush, recorded a step or more before the flush, so this delay is an upper bound of the time from
the server's send to the receipt; prototype: when its poll loop built the event). point age:
of each metric point, from its timestamp to its receipt: in training mode a point also waits for
its flush (PROGRESS_FLUSH_MS). The prototype polls every 500 ms: its data is up to 500 ms older
than its delay on top.
subscribed: all streams of the row open with their first update, from the first request sent,
and how many per second;
first update: from sending a stream's request to its first update; server CPU each: the
server's CPU while they opened (a job's training and fan-out included), per stream, of its main
thread and of all its threads (V8's compiler and GC helpers, the trainer); clients: the client
processes' CPU while they opened the streams (the updates they received meanwhile included).
failed / dropped: streams that got no first update, and subscribed ones that broke off before the
end, by reason (an HTTP status, a socket error, the server closing).
µs/event: server CPU time in the window per event delivered. KB/subscriber: growth of the
server's RSS from before the clients connected to 2 s after, per subscriber (garbage of the
connection burst included); in brackets the same at the end of the window.
Client processes, the runner and PostgreSQL share the machine with the server.`);
const last = rows.filter((r) => r.label !== 'bare node' && r.label !== 'prototype').at(-1);
if (last) {
  console.log(
    MODE === 'training'
      ? `targets at N=${last.n} (training): subscribed within 15 s -> ${last.connectS.toFixed(1)} s; delay p99 < 500 ms -> ${last.p99} ms; no failure or reset -> failed ${reasons(last.failures)}, dropped ${reasons(last.drops)}`
      : `targets at N=${last.n}: p99 < 250 ms -> ${last.p99} ms; RSS < 20 KB per subscriber -> ${last.rssPerSubscriberKb.toFixed(1)} KB`,
  );
}
process.exit(0);
