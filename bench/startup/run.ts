/**
 * Startup: from spawning `npm start` to the first 200 of `/ready`, on an existing data directory
 * and on a fresh one (PGlite), and the prototype's start for comparison.
 *
 *   npm run bench:startup [runs=5]
 *
 * Runs one after another (never two servers at once) on port BENCH_PORT (4390). Before the
 * timed runs, one untimed start creates the existing data directory (with the demo corpus
 * loaded, as after a first `npm start`) and warms V8's compile cache; the "first start" rows
 * clear that cache, as right after `npm ci`. `startupMs` is the server's own figure from opening
 * the database to listening; the rest is node, npm and loading the code.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SEED = path.resolve(ROOT, '../shared/reference/seed');
const COMPILE_CACHE = path.join(ROOT, 'node_modules/.cache/node-compile-cache');
const RUNS = Number(process.argv[2] ?? 5);
const PORT = Number(process.env.BENCH_PORT ?? 4390);
const PROTOTYPE_PORT = 8190;

type Start = { child: ChildProcess; output: () => string; exited: Promise<void> };

function launch(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Start {
  // its own process group, so that npm, its shell and node all get the signal
  const child = spawn(command, args, { cwd, env, detached: true, stdio: 'pipe' });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return { child, output: () => output, exited };
}

/** Stops the process group; resolves once the port is free (npm may exit before its node). */
async function stop({ child, exited }: Start, port: number) {
  if (child.pid) process.kill(-child.pid, 'SIGTERM');
  await exited;
  while (await isListening(port)) await new Promise((resolve) => setTimeout(resolve, 20));
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Milliseconds from now until `url` answers 200, polled every 10 ms. */
async function untilOk(url: string, start: Start): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (start.child.exitCode !== null) throw new Error(`exited before ready:\n${start.output()}`);
    try {
      if ((await fetch(url)).ok) return performance.now() - started;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Resolves once the server's log has a line matching `pattern`. */
async function logged(start: Start, pattern: RegExp) {
  while (!pattern.test(start.output())) {
    if (start.child.exitCode !== null) throw new Error(`exited:\n${start.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

type Run = { readyMs: number; startupMs: number | undefined };

/** `npm start` on PGlite in `dataDir` until ready (and, if asked, until a log line), then stopped. */
async function npmStart(dataDir: string, until = /"startupMs":\d+/): Promise<Run> {
  const start = launch('npm', ['start', '--silent'], ROOT, {
    ...process.env,
    PORT: String(PORT),
    DATA_DIR: dataDir,
    LOG_FORMAT: 'json',
    DATABASE_URL: '',
  });
  try {
    const readyMs = await untilOk(`http://127.0.0.1:${PORT}/ready`, start);
    await logged(start, until);
    const startupMs = Number(start.output().match(/"startupMs":(\d+)/)?.[1]);
    return { readyMs, startupMs };
  } finally {
    await stop(start, PORT);
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

function report(label: string, runs: Run[]) {
  const ready = runs.map((run) => run.readyMs);
  const startup = runs.flatMap((run) => (run.startupMs === undefined ? [] : [run.startupMs]));
  console.log(
    `${label.padEnd(44)} median ${Math.round(median(ready))} ms  min ${Math.round(Math.min(...ready))}  max ${Math.round(Math.max(...ready))}  (startupMs median ${startup.length ? Math.round(median(startup)) : '-'}; n=${runs.length})`,
  );
}

const load = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');

console.log(`node ${process.version}, ${RUNS} runs each, load average ${load()}`);
const work = mkdtempSync(path.join(tmpdir(), 'bench-startup-'));
try {
  // Also rebuilds dist/ first when a source is newer (npm start does), outside the timed runs.
  const existing = path.join(work, 'existing');
  await npmStart(existing, /demo data: /);

  const existingRuns: Run[] = [];
  for (let i = 0; i < RUNS; i++) existingRuns.push(await npmStart(existing));
  report('npm start -> /ready, existing data dir', existingRuns);

  const freshRuns: Run[] = [];
  for (let i = 0; i < RUNS; i++) freshRuns.push(await npmStart(path.join(work, `fresh-${i}`)));
  report('npm start -> /ready, fresh data dir', freshRuns);

  const firstRuns: Run[] = [];
  for (let i = 0; i < RUNS; i++) {
    rmSync(COMPILE_CACHE, { recursive: true, force: true });
    firstRuns.push(await npmStart(path.join(work, `first-${i}`)));
  }
  report('first start after npm ci (no compile cache)', firstRuns);

  await prototype();
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(`load average after: ${load()}`);

/** The Python prototype (FastAPI under uvicorn, in memory): spawn -> its status route answers. */
async function prototype() {
  const python = '/usr/bin/python3';
  const usable =
    existsSync(SEED) &&
    existsSync(python) &&
    spawnSync(python, ['-c', 'import fastapi, uvicorn']).status === 0;
  if (!usable) {
    console.log(
      'prototype: skipped (needs ../shared/reference/seed and Debian python3-fastapi python3-uvicorn)',
    );
    return;
  }
  const runs: Run[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = launch(
      python,
      ['-m', 'uvicorn', 'main:app', '--host', '127.0.0.1', '--port', String(PROTOTYPE_PORT)],
      SEED,
      process.env,
    );
    try {
      const url = `http://127.0.0.1:${PROTOTYPE_PORT}/api/v1/admin/training/status`;
      runs.push({ readyMs: await untilOk(url, start), startupMs: undefined });
    } finally {
      // nothing runs in the background yet, so uvicorn stops at the first signal
      await stop(start, PROTOTYPE_PORT);
    }
  }
  report('prototype (uvicorn) -> status route', runs);
}
