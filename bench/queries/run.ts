/**
 * Query throughput and latency: this API vs the Python prototype (vs a bare in-memory yoga server
 * when idle), side by side in one run, with wrk. Usage: `npm run bench:queries [idle|training]`
 * (both by default; needs Debian's wrk and the prototype's packages; see README "Benchmarks").
 *
 * - idle: the API alone (WORKER=false), its 20 jobs queued; the prototype's cancelled.
 * - training: the API as users deploy it (WORKER on) while it trains a real job (all 16 states,
 *   batch size 1) in the same process, 19 more queued; the prototype "trains" one too.
 *
 * After each wrk run the server's main thread reports its event-loop delay and GC pauses
 * (bench/queries/loop-stats.mjs). Each wrk run follows an unmeasured one of BENCH_WARMUP (3s;
 * 0s for none) against the same target. BENCH_SERVER_FLAGS adds node flags to the server
 * (`--cpu-prof --cpu-prof-dir=...`, `--trace-gc`): it is stopped with SIGTERM, so a profile is
 * written.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUNDESLAND_CODES } from '../../src/vocabulary/bundeslaender.ts';
import { startCommand } from '../../test/support/processes.ts';
import { corpusRecords, toJsonl } from '../../test/training/corpus.ts';
import { importDocuments } from '../support/import-documents.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SEED = path.resolve(ROOT, '../shared/reference/seed');
const TOKEN = 'bench-admin-token-0123456789';
const DURATION = process.env.BENCH_DURATION ?? '10s';
// Every target gets the same load first, unmeasured: a fresh process's first seconds (lazy
// compilation, JIT, first heap growth) are not its steady state.
const WARMUP = process.env.BENCH_WARMUP ?? '3s';
const CONNECTIONS = process.env.BENCH_CONNECTIONS ?? '32';
const JOBS = 20;

const STATUS_QUERY =
  '{ trainingStatus { isTraining activeJob { id name } totalJobs completedJobs failedJobs queuedJobs modelVersions activeModels } }';
const JOBS_QUERY = `{ trainingJobs(first: ${JOBS}) { edges { node {
  id name modelType status progress currentEpoch totalEpochs currentStep totalSteps loss valLoss learningRate
  documentsProcessed totalDocuments createdAt startedAt estimatedCompletion completedAt errorMessage
  metrics { precision recall f1Score accuracy lossHistory valLossHistory }
  config { name modelType bundeslaender batchSize learningRate epochs warmupSteps weightDecay gradientAccumulation mixedPrecision }
  modelVersion { id version }
} } } }`;

type Result = { rps: number; p50: number; p99: number; max: number };

const work = mkdtempSync(path.join(tmpdir(), 'bench-queries-'));

/** `wrk` after its warm-up; `beforeMeasuring` runs between the two (to reset server stats). */
async function wrk(
  url: string,
  body?: string,
  auth?: string,
  beforeMeasuring?: () => Promise<unknown>,
): Promise<Result> {
  const args = ['-t1', `-c${CONNECTIONS}`];
  if (body) {
    const script = path.join(work, `post-${Math.random().toString(36).slice(2)}.lua`);
    writeFileSync(
      script,
      `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\nwrk.headers["Content-Type"] = "application/json"\n${auth ? `wrk.headers["Authorization"] = "Bearer ${auth}"\n` : ''}`,
    );
    args.push('-s', script);
  }
  if (WARMUP !== '0s') execFileSync('wrk', [...args, `-d${WARMUP}`, url]);
  await beforeMeasuring?.();
  const out = execFileSync('wrk', [...args, `-d${DURATION}`, '--latency', url], {
    encoding: 'utf8',
  });
  const toMs = (m: RegExpMatchArray | null) => {
    if (!m) return Number.NaN;
    const v = Number(m[1]);
    return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : m[2] === 'm' ? v * 60_000 : v;
  };
  const ms = (label: string) => toMs(out.match(new RegExp(`${label}%\\s+([\\d.]+)(us|ms|s)`)));
  // Thread Stats: "Latency  avg  stdev  max  +/- stdev"
  const max = toMs(out.match(/Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s|m)\b/));
  const errors = out.match(/Non-2xx or 3xx responses: (\d+)/);
  if (errors) throw new Error(`${url}: ${errors[1]} failed responses\n${out}`);
  return {
    rps: Number(out.match(/Requests\/sec:\s+([\d.]+)/)?.[1]),
    p50: ms('50'),
    p99: ms('99'),
    max,
  };
}

function waitForLine(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk) => {
      out += chunk;
      const m = out.match(pattern);
      if (m) resolve(m[1] ?? m[0]);
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
}

async function gql(url: string, query: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ query }),
  });
  const json = (await res.json()) as { errors?: unknown };
  if (json.errors) throw new Error(JSON.stringify(json.errors));
  return json;
}

/** Jobs need training data: a small corpus, through `importDocuments`. */
function importSeedCorpus(url: string, states: string[], perTypeAndState: number) {
  return importDocuments(url, TOKEN, toJsonl(corpusRecords({ states, perTypeAndState })));
}

type Mode = 'idle' | 'training';
const modes: Mode[] =
  process.argv[2] === 'idle' || process.argv[2] === 'training'
    ? [process.argv[2]]
    : ['idle', 'training'];

/** Epochs of the job trained while wrk runs: the most the contract allows, to outlast the runs. */
const TRAINING_EPOCHS = 100;
/** Documents per (state, type) for that job: 16 states x 4 types x 64, one per step. */
const TRAINING_DOCS_PER_TYPE_AND_STATE = 64;

const children: ChildProcess[] = [];
let seedPid: string | undefined;
function killAll() {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  if (seedPid) execFileSync(path.join(SEED, 'stop-seed.sh'), [seedPid]);
  seedPid = undefined;
}
process.on('exit', killAll);

/** This API as `npm start` runs it, on embedded PGlite in a fresh data directory. */
async function startApi(mode: Mode, port: number) {
  const [node, ...startArgs] = startCommand();
  const extraFlags = process.env.BENCH_SERVER_FLAGS?.split(' ').filter(Boolean) ?? [];
  const loopStats = path.join(ROOT, 'bench/queries/loop-stats.mjs');
  const api = spawn(node as string, ['--import', loopStats, ...extraFlags, ...startArgs], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      DATA_DIR: path.join(work, `data-${mode}`),
      AUTH_TOKENS: `${TOKEN}:admin`,
      DEMO_DATA: 'false',
      // idle: the API alone, as the other targets; training: WORKER's default, as users run it
      ...(mode === 'idle' ? { WORKER: 'false' } : {}),
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(api);
  let pending: ((line: string) => void) | null = null;
  let buffered = '';
  api.stdout?.on('data', (chunk) => {
    buffered += chunk;
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line.startsWith('loop-stats ')) pending?.(line.slice('loop-stats '.length));
      newline = buffered.indexOf('\n');
    }
  });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/ready`)).ok) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    /** The main thread's event-loop delay and GC pauses since the last call. */
    loopStats: () =>
      new Promise<string>((resolve) => {
        pending = resolve;
        api.kill('SIGUSR2');
      }),
    /** SIGTERM, so that `--cpu-prof` writes its profile. */
    stop: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => api.kill('SIGKILL'), 15_000);
        api.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        api.kill('SIGTERM');
      }),
  };
}

async function jobStatus(url: string, id: string): Promise<string> {
  const json = (await gql(url, `{ trainingJob(id: "${id}") { status } }`)) as {
    data: { trainingJob: { status: string } };
  };
  return json.data.trainingJob.status;
}

/** Starts the job trained during the runs and waits until it trains. */
async function startTrainingJob(url: string): Promise<string> {
  const json = (await gql(
    url,
    `mutation { createTrainingJob(input: { name: "bench training", bundeslaender: ${JSON.stringify(BUNDESLAND_CODES)}, batchSize: 1, epochs: ${TRAINING_EPOCHS} }) { id } }`,
  )) as { data: { createTrainingJob: { id: string } } };
  const id = json.data.createTrainingJob.id;
  for (let i = 0; ; i++) {
    const status = await jobStatus(url, id);
    if (status === 'TRAINING') return id;
    if (i > 600 || ['FAILED', 'CANCELLED', 'COMPLETED'].includes(status))
      throw new Error(`the training job is ${status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const seedBase = 'http://127.0.0.1:8100/api/v1/admin/training';

/** The prototype with `count` jobs: cancelled, but for the last one if `training`. */
async function startSeed(count: number, training: boolean) {
  seedPid = execFileSync(
    path.join(SEED, 'run-seed.sh'),
    ['8100', '1', process.env.SEED_STACK ?? 'h11'],
    { encoding: 'utf8' },
  ).trim();
  for (let i = 0; i < count; i++) {
    const last = training && i === count - 1;
    // the prototype refuses a second job while one runs, so the others are cancelled
    const res = await fetch(`${seedBase}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: `bench ${i}`,
        bundeslaender: last ? BUNDESLAND_CODES : ['NW', 'BY'],
        ...(last ? { batch_size: 1, epochs: TRAINING_EPOCHS } : {}),
      }),
    });
    const { id } = (await res.json()) as { id: string };
    if (!last) await fetch(`${seedBase}/jobs/${id}/cancel`, { method: 'POST' });
  }
}

const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(2));
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/**
 * The server main thread's CPU time per request, in µs (while training, the runner's share of
 * that thread included): the figure to compare between two builds on a busy machine.
 */
function cpuPerRequest(result: Result, stats: string): string {
  const { cpuMs } = JSON.parse(stats) as { cpuMs?: number };
  const seconds = Number.parseFloat(DURATION) * (DURATION.endsWith('m') ? 60 : 1);
  return cpuMs === undefined
    ? ''
    : `  cpu ${((cpuMs * 1000) / (result.rps * seconds)).toFixed(0)} µs/req`;
}

function report(label: string, result: Result, stats?: string, cpu = '') {
  console.log(
    `${label.padEnd(40)} ${result.rps.toFixed(0).padStart(7)} req/s  p50 ${fmt(result.p50)} ms  p99 ${fmt(result.p99)} ms  max ${fmt(result.max)} ms${cpu}  (load ${load()})`,
  );
  if (stats) console.log(`${''.padEnd(40)} server main thread: ${stats}`);
  return result;
}

function ratios(status: [Result, Result], jobs: [Result, Result]) {
  const [apiStatus, seedStatus] = status;
  const [apiJobs, seedJobs] = jobs;
  const x = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
  console.log(
    `  status vs prototype:       ${x(apiStatus.rps, seedStatus.rps)} req/s (target >= 1), p99 ${x(apiStatus.p99, seedStatus.p99)} (target <= 3)`,
  );
  console.log(
    `  ${JOBS}-job list vs prototype: ${x(apiJobs.rps, seedJobs.rps)} req/s (target >= 5), p99 ${x(apiJobs.p99, seedJobs.p99)} (target <= 3)`,
  );
}

async function runMode(mode: Mode) {
  const api = await startApi(mode, 4200);
  let trainingJob: string | undefined;
  if (mode === 'idle') {
    await importSeedCorpus(api.url, ['NW', 'BY'], 4);
  } else {
    await importSeedCorpus(api.url, BUNDESLAND_CODES, TRAINING_DOCS_PER_TYPE_AND_STATE);
    trainingJob = await startTrainingJob(api.url);
  }
  const queued = trainingJob ? JOBS - 1 : JOBS;
  for (let i = 0; i < queued; i++) {
    await gql(
      api.url,
      `mutation { createTrainingJob(input: { name: "bench ${i}", bundeslaender: ["NW", "BY"] }) { id } }`,
    );
  }
  await startSeed(JOBS, mode === 'training');

  console.log(
    `\n${mode === 'idle' ? 'idle: API with WORKER=false' : 'training: API with WORKER on, one job training (16 states, batch 1) in the same process'}`,
  );
  console.log(
    `wrk: ${CONNECTIONS} connections, ${DURATION} each after ${WARMUP} unmeasured, 1 thread; ${JOBS} jobs everywhere`,
  );
  const measureApi = async (label: string, query: string) => {
    const result = await wrk(api.url, JSON.stringify({ query }), TOKEN, api.loopStats);
    const stats = await api.loopStats();
    return report(label, result, stats, cpuPerRequest(result, stats));
  };

  let ceiling: Result | undefined;
  if (mode === 'idle') {
    const bare = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'bench/queries/bare-yoga.ts')],
      { env: { ...process.env, PORT: '4201' }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(bare);
    await waitForLine(bare, /ready/);
    ceiling = report(
      'bare yoga, status from memory',
      await wrk('http://127.0.0.1:4201/graphql', JSON.stringify({ query: STATUS_QUERY })),
    );
  }
  const apiStatus = await measureApi('this API, trainingStatus', STATUS_QUERY);
  const seedStatus = report('prototype, GET /status', await wrk(`${seedBase}/status`));
  const apiJobs = await measureApi(`this API, trainingJobs(first: ${JOBS})`, JOBS_QUERY);
  const seedJobs = report(`prototype, GET /jobs (${JOBS} jobs)`, await wrk(`${seedBase}/jobs`));

  if (trainingJob) {
    const status = await jobStatus(api.url, trainingJob);
    if (status !== 'TRAINING') console.log(`  !! the training job was ${status} by the end`);
  }
  console.log('ratios');
  if (ceiling)
    console.log(
      `  status vs bare yoga:       ${(apiStatus.rps / ceiling.rps).toFixed(2)}x req/s (target >= 0.90)`,
    );
  ratios([apiStatus, seedStatus], [apiJobs, seedJobs]);
  await api.stop();
  killAll();
}

for (const mode of modes) await runMode(mode);
process.exit(0);
