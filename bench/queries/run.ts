/**
 * Query throughput: this API vs the Python prototype vs a bare in-memory yoga server, side by
 * side in one run, with wrk. Usage: `npm run bench:queries` (needs Debian's wrk and the
 * prototype's packages; see README "Benchmarks").
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCommand } from '../../test/support/processes.ts';
import { corpusRecords, toJsonl } from '../../test/training/corpus.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SEED = path.resolve(ROOT, '../shared/reference/seed');
const TOKEN = 'bench-admin-token-0123456789';
const DURATION = process.env.BENCH_DURATION ?? '10s';
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

type Result = { rps: number; p50: number; p99: number };

const work = mkdtempSync(path.join(tmpdir(), 'bench-queries-'));

function wrk(url: string, body?: string, auth?: string): Result {
  const args = ['-t1', `-c${CONNECTIONS}`, `-d${DURATION}`, '--latency'];
  if (body) {
    const script = path.join(work, `post-${Math.random().toString(36).slice(2)}.lua`);
    writeFileSync(
      script,
      `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\nwrk.headers["Content-Type"] = "application/json"\n${auth ? `wrk.headers["Authorization"] = "Bearer ${auth}"\n` : ''}`,
    );
    args.push('-s', script);
  }
  const out = execFileSync('wrk', [...args, url], { encoding: 'utf8' });
  const ms = (label: string) => {
    const m = out.match(new RegExp(`${label}%\\s+([\\d.]+)(us|ms|s)`));
    if (!m) return Number.NaN;
    const v = Number(m[1]);
    return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
  };
  const errors = out.match(/Non-2xx or 3xx responses: (\d+)/);
  if (errors) throw new Error(`${url}: ${errors[1]} failed responses\n${out}`);
  return { rps: Number(out.match(/Requests\/sec:\s+([\d.]+)/)?.[1]), p50: ms('50'), p99: ms('99') };
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

/** Jobs need training data: a small corpus for NW and BY, through `importDocuments`. */
async function importSeedCorpus(url: string) {
  const form = new FormData();
  form.append(
    'operations',
    JSON.stringify({
      query: 'mutation ($file: File!) { importDocuments(file: $file) { rejected } }',
      variables: { file: null },
    }),
  );
  form.append('map', JSON.stringify({ 0: ['variables.file'] }));
  const corpus = toJsonl(corpusRecords({ states: ['NW', 'BY'], perTypeAndState: 4 }));
  form.append('0', new File([corpus], 'seed.jsonl', { type: 'application/jsonl' }));
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}` },
    body: form,
  });
  const json = (await res.json()) as { errors?: unknown };
  if (json.errors) throw new Error(JSON.stringify(json.errors));
}

const children: ChildProcess[] = [];
let seedPid: string | undefined;
function cleanUp() {
  for (const child of children) child.kill('SIGKILL');
  if (seedPid) execFileSync(path.join(SEED, 'stop-seed.sh'), [seedPid]);
}
process.on('exit', cleanUp);

// This API, on embedded PGlite, with 20 jobs that have metric history.
const [node, ...startArgs] = startCommand();
const api = spawn(node as string, startArgs, {
  cwd: ROOT,
  env: {
    ...process.env,
    PORT: '4200',
    DATA_DIR: path.join(work, 'data'),
    AUTH_TOKENS: `${TOKEN}:admin`,
    DEMO_DATA: 'false',
    // the API alone, as the other targets: its jobs stay queued
    WORKER: 'false',
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'warn',
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
children.push(api);
const apiUrl = 'http://127.0.0.1:4200/graphql';
for (let i = 0; i < 100; i++) {
  try {
    if ((await fetch('http://127.0.0.1:4200/ready')).ok) break;
  } catch {}
  await new Promise((r) => setTimeout(r, 200));
}
await importSeedCorpus(apiUrl);
for (let i = 0; i < JOBS; i++) {
  await gql(
    apiUrl,
    `mutation { createTrainingJob(input: { name: "bench ${i}", bundeslaender: ["NW", "BY"] }) { id } }`,
  );
}

const bare = spawn(
  process.execPath,
  ['--import', 'tsx', path.join(ROOT, 'bench/queries/bare-yoga.ts')],
  {
    env: { ...process.env, PORT: '4201' },
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
children.push(bare);
await waitForLine(bare, /ready/);

seedPid = execFileSync(
  path.join(SEED, 'run-seed.sh'),
  ['8100', '1', process.env.SEED_STACK ?? 'h11'],
  { encoding: 'utf8' },
).trim();
const seedBase = 'http://127.0.0.1:8100/api/v1/admin/training';
for (let i = 0; i < JOBS; i++) {
  // the prototype refuses a second job while one runs, so each is cancelled after creation
  const res = await fetch(`${seedBase}/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: `bench ${i}`, bundeslaender: ['NW', 'BY'] }),
  });
  const { id } = (await res.json()) as { id: string };
  await fetch(`${seedBase}/jobs/${id}/cancel`, { method: 'POST' });
}

const rows: Array<[string, Result]> = [];
const run = (label: string, result: Result) => {
  rows.push([label, result]);
  console.log(
    `${label.padEnd(34)} ${result.rps.toFixed(0).padStart(7)} req/s  p50 ${result.p50.toFixed(2)} ms  p99 ${result.p99.toFixed(2)} ms`,
  );
  return result;
};

console.log(
  `wrk: ${CONNECTIONS} connections, ${DURATION} each, 1 thread; ${JOBS} jobs everywhere\n`,
);
const ceiling = run(
  'bare yoga, status from memory',
  wrk('http://127.0.0.1:4201/graphql', JSON.stringify({ query: STATUS_QUERY })),
);
const apiStatus = run(
  'this API, trainingStatus',
  wrk(apiUrl, JSON.stringify({ query: STATUS_QUERY }), TOKEN),
);
const seedStatus = run('prototype, GET /status', wrk(`${seedBase}/status`));
const apiJobs = run(
  `this API, trainingJobs(first: ${JOBS})`,
  wrk(apiUrl, JSON.stringify({ query: JOBS_QUERY }), TOKEN),
);
const seedJobs = run(`prototype, GET /jobs (${JOBS} jobs)`, wrk(`${seedBase}/jobs`));

console.log('\nratios');
console.log(
  `  status vs bare yoga ceiling: ${(apiStatus.rps / ceiling.rps).toFixed(2)}x  (target >= 0.90)`,
);
console.log(
  `  status vs prototype:         ${(apiStatus.rps / seedStatus.rps).toFixed(2)}x  (target >= 1)`,
);
console.log(
  `  20-job list vs prototype:    ${(apiJobs.rps / seedJobs.rps).toFixed(2)}x  (target >= 5)`,
);
cleanUp();
process.exit(0);
