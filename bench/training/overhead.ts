/**
 * What running a job inside the server costs the trainer: steps/s of the built-in trainer alone
 * (the worker-thread adapter, no database) against the same job, same examples and config, run
 * by the server's runner with persistence and events on (default PROGRESS_FLUSH_MS=250,
 * CHECKPOINT_INTERVAL_MS=10000, LEASE_MS=15000; job created over GraphQL; a bus subscriber
 * consuming every progress event, as a subscription would), on PGlite (on disk, as the server
 * opens it) and on PostgreSQL when reachable. Also counts the database writes per second of
 * the running job.
 *
 *   npx tsx bench/training/overhead.ts [batchSize=1] [epochs=12] [repeats=5]
 *   BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/postgres (set BENCH_PG_URL= to skip)
 *
 * Steps/s are timed between the trainer's 'prepared' and 'done' events as the consumer (the
 * runner, or the bare loop) receives them; each figure is the median of `repeats` runs, taken
 * in turns (alone, PGlite, PostgreSQL) so that a busy moment of a shared machine hits all.
 */
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance as nodePerformance } from 'node:perf_hooks';
import { decodeGlobalID } from '@pothos/plugin-relay';
import { pino } from 'pino';
import postgres from 'postgres';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { DEMO_CORPUS_FILE } from '../../src/dataset/demo.ts';
import { importStream } from '../../src/dataset/import.ts';
import { trainingChunks } from '../../src/dataset/stats.ts';
import { type Database, openDatabase } from '../../src/db/client.ts';
import { jobTopic } from '../../src/events/topics.ts';
import { createRunner } from '../../src/training/runner/runner.ts';
import {
  startTrainerWorker,
  type TrainerEvent,
} from '../../src/training/trainers/builtin/index.ts';
import { builtinTrainer, type Trainer } from '../../src/training/trainers/port.ts';
import { BUNDESLAND_CODES } from '../../src/vocabulary/bundeslaender.ts';

const batchSize = Number(process.argv[2] ?? 1);
const epochs = Number(process.argv[3] ?? 12);
const repeats = Number(process.argv[4] ?? 5);
const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const config = {
  batchSize,
  learningRate: 0.01,
  epochs,
  warmupSteps: 10,
  weightDecay: 0.01,
  gradientAccumulation: 1,
  mixedPrecision: false,
  seed: 42,
};
const input = {
  name: 'overhead',
  modelType: 'ZEUGNIS',
  bundeslaender: [...BUNDESLAND_CODES],
  ...config,
};
const logger = pino({ level: 'silent' });

/**
 * From prepared to done: `cpuMs`, CPU time of this whole process (all threads); `busy`, the share
 * of the time the main thread (the API's, the runner's and PGlite's) was busy.
 */
type Timing = {
  steps: number;
  trainMs: number;
  cpuMs: number;
  busy: number;
  /** The main thread's longest stall (event-loop delay), ms. */
  stallMs: number;
  checkpoints: number;
};

const { eventLoopUtilization } = nodePerformance;

/** Watches the main thread from 'prepared' to 'done' of one event stream. */
function watcher() {
  let prepared = 0;
  let cpu = process.cpuUsage();
  let loop = eventLoopUtilization();
  const delay = monitorEventLoopDelay({ resolution: 10 });
  let steps = 0;
  let checkpoints = 0;
  return {
    see(event: TrainerEvent): Timing | undefined {
      if (event.type === 'prepared') {
        prepared = performance.now();
        cpu = process.cpuUsage();
        loop = eventLoopUtilization();
        delay.enable();
      } else if (event.type === 'step') steps++;
      else if (event.type === 'checkpoint') checkpoints++;
      else if (event.type === 'done') {
        delay.disable();
        return {
          steps,
          trainMs: performance.now() - prepared,
          cpuMs: cpuMs(cpu),
          busy: eventLoopUtilization(loop).utilization,
          stallMs: delay.max / 1e6,
          checkpoints,
        };
      }
      return undefined;
    },
  };
}

const cpuMs = (since: NodeJS.CpuUsage) => {
  const { user, system } = process.cpuUsage(since);
  return (user + system) / 1000;
};

/** Times an event stream from 'prepared' to 'done'. */
async function time(events: AsyncIterable<TrainerEvent>): Promise<Timing> {
  const watch = watcher();
  let result: Timing | undefined;
  for await (const event of events) result = watch.see(event) ?? result;
  if (!result) throw new Error('the run did not finish');
  return result;
}

/** The built-in trainer, timing each session at the runner's end of it. */
function timedTrainer(onTiming: (timing: Promise<Timing>) => void): Trainer {
  return {
    ...builtinTrainer,
    name: 'timed builtin',
    start(trainerInput) {
      const session = builtinTrainer.start(trainerInput);
      let resolve: (t: Timing) => void = () => {};
      onTiming(new Promise<Timing>((r) => (resolve = r)));
      return {
        ...session,
        requestCheckpoint: () => session.requestCheckpoint(),
        pause: () => session.pause(),
        cancel: () => session.cancel(),
        async *[Symbol.asyncIterator]() {
          const watch = watcher();
          for await (const event of session) {
            const timing = watch.see(event);
            if (timing) resolve(timing);
            yield event;
          }
        },
      };
    },
  };
}

type Writes = { statements: number; byKind: Map<string, number> };

const writeKind = (sql: string): string | null => {
  const match = sql.match(/^\s*(insert into|update|delete from)\s+"(\w+)"/i);
  return match ? `${match[1]?.toLowerCase().split(' ')[0]} ${match[2]}` : null;
};

/** A server's database, app and runner (default settings) with a counter of write statements. */
async function startServer(open: (onQuery: (sql: string) => void) => Promise<Database>) {
  let counting: Writes | null = null;
  const database = await open((sql) => {
    const kind = counting && writeKind(sql);
    if (!counting || !kind) return;
    counting.statements++;
    counting.byKind.set(kind, (counting.byKind.get(kind) ?? 0) + 1);
  });
  await database.migrate();
  const imported = await importStream(database.db, createReadStream(DEMO_CORPUS_FILE));
  const app = createApp({ database, logger, tokens: 'disabled', settings: loadConfig({}) });
  const timings: Promise<Timing>[] = [];
  const runnerConfig = loadConfig({}).runner;
  // Every setting at its default (TRAINER=builtin, here with timing around it).
  const runner = createRunner({
    ...runnerConfig,
    db: database.db,
    events: app.events,
    logger,
    trainer: timedTrainer((t) => timings.push(t)),
  });

  /** Creates the job over GraphQL and waits until it completed; counts writes while it trains. */
  async function runJob(): Promise<Timing & { writes: Writes; events: number }> {
    let events = 0;
    const writes: Writes = { statements: 0, byKind: new Map() };
    const response = await app.yoga.fetch('http://bench/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: 'mutation($input: TrainingConfigInput!) { createTrainingJob(input: $input) { id } }',
        variables: { input },
      }),
    });
    const { data } = (await response.json()) as { data: { createTrainingJob: { id: string } } };
    const { id } = decodeGlobalID(data.createTrainingJob.id);
    const finished = new Promise<void>((resolve, reject) => {
      const unsubscribe = app.events.subscribe(jobTopic(id), ({ job, newPoints }) => {
        events += 1;
        // A subscriber does something with each point (here: reads it).
        for (const p of newPoints) if (p.loss !== null && p.loss < 0) reject(new Error('loss'));
        if (job.status === 'TRAINING' && counting === null) counting = writes;
        if (job.status === 'VALIDATING') counting = null;
        if (job.status === 'COMPLETED' || job.status === 'FAILED') {
          unsubscribe();
          if (job.status === 'FAILED') reject(new Error(job.errorMessage ?? 'failed'));
          else resolve();
        }
      });
    });
    const index = timings.length;
    await finished;
    counting = null;
    const timing = await (timings[index] as Promise<Timing>);
    return { ...timing, writes, events };
  }

  return {
    added: imported.added,
    runJob,
    async close() {
      await runner.stop();
      await app.yoga.dispose();
      await database.close();
    },
  };
}

async function pgReachable(): Promise<boolean> {
  if (!PG_URL) return false;
  const sql = postgres(PG_URL, { max: 1, onnotice: () => {}, connect_timeout: 3 });
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-overhead-'));
const pgName = `bench_overhead_${process.pid}`;
const servers: { name: string; server: Awaited<ReturnType<typeof startServer>> }[] = [];
try {
  servers.push({
    name: 'server, PGlite (disk)',
    server: await startServer((onQuery) =>
      openDatabase({ kind: 'pglite', dataDir: path.join(dir, 'pglite'), onQuery }),
    ),
  });
  if (await pgReachable()) {
    const admin = postgres(PG_URL, { max: 1, onnotice: () => {} });
    await admin.unsafe(`CREATE DATABASE "${pgName}"`);
    await admin.end();
    const url = new URL(PG_URL);
    url.pathname = `/${pgName}`;
    servers.push({
      name: 'server, PostgreSQL',
      server: await startServer((onQuery) =>
        openDatabase({ kind: 'postgres', url: url.toString(), onQuery }),
      ),
    });
  }
  // The trainer alone gets exactly the examples the runner loads for the job.
  const examples = await (async () => {
    const database = await openDatabase({ kind: 'pglite', dataDir: path.join(dir, 'examples') });
    await database.migrate();
    await importStream(database.db, createReadStream(DEMO_CORPUS_FILE));
    const rows = await trainingChunks(database.db, input.bundeslaender);
    await database.close();
    return rows;
  })();

  type Run = Timing & { writes?: Writes; events?: number };
  const ALONE = 'trainer alone (worker)';
  const rounds: Map<string, Run>[] = [];
  const modes = [
    { name: ALONE, run: () => time(startTrainerWorker({ examples, config })) },
    ...servers.map(({ name, server }) => ({ name, run: () => server.runJob() })),
  ];
  // One warm-up round (worker start-up, JIT, caches), then measured rounds; the order turns
  // round by round, and each server run is compared with the trainer alone of its own round,
  // so that the load of a shared machine, which drifts, weighs on both sides alike.
  for (let round = 0; round <= repeats; round++) {
    const runs = new Map<string, Run>();
    for (const mode of round % 2 === 0 ? modes : [...modes].reverse()) {
      runs.set(mode.name, await mode.run());
    }
    if (round > 0) rounds.push(runs);
  }
  const results = new Map(
    modes.map(({ name }) => [name, rounds.map((runs) => runs.get(name) as Run)]),
  );
  const rate = (r: Run) => (r.steps / r.trainMs) * 1000;
  const percent = (x: number) => `${(x * 100).toFixed(1)}%`;

  console.log(
    `training overhead benchmark: ${examples.length} examples (demo corpus, 16 states), batch ` +
      `${batchSize} x accumulation 1, ${epochs} epochs; node ${process.version}, ` +
      `${os.cpus().length} cpus (${os.cpus()[0]?.model ?? 'unknown'}), load average ` +
      `${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}; ${repeats} rounds after one warm-up, medians`,
  );
  console.table(
    [...results.entries()].map(([name, runs]) => {
      const alone = results.get(ALONE) as Run[];
      // Per round: how much slower than the trainer alone, and how much more CPU per second.
      const slower = runs.map((r, i) => 1 - rate(r) / rate(alone[i] as Run));
      const cpuPerStep = (r: Run) => r.cpuMs / r.steps;
      const extraCpu = runs.map((r, i) => cpuPerStep(r) / cpuPerStep(alone[i] as Run) - 1);
      const writes = runs.flatMap((r) => (r.writes ? [r] : []));
      const server = name !== ALONE;
      return {
        run: name,
        steps: runs[0]?.steps,
        'train s': (median(runs.map((r) => r.trainMs)) / 1000).toFixed(2),
        'steps/s': Math.round(median(runs.map(rate))),
        overhead: server ? percent(median(slower)) : '',
        'overhead range': server
          ? `${percent(Math.min(...slower))} .. ${percent(Math.max(...slower))}`
          : '',
        'CPU ms/step': median(runs.map(cpuPerStep)).toFixed(3),
        'main thread busy': percent(median(runs.map((r) => r.busy))),
        'longest stall ms': Math.round(median(runs.map((r) => r.stallMs))),
        checkpoints: median(runs.map((r) => r.checkpoints)),
        'CPU overhead': server ? percent(median(extraCpu)) : '',
        'DB writes/s': writes.length
          ? median(writes.map((r) => (r.writes!.statements / r.trainMs) * 1000)).toFixed(1)
          : '',
        'bus events/s': writes.length
          ? median(writes.map((r) => ((r.events ?? 0) / r.trainMs) * 1000)).toFixed(1)
          : '',
      };
    }),
  );
  for (const [name, runs] of results) {
    const last = runs.at(-1);
    if (!last?.writes) continue;
    const seconds = last.trainMs / 1000;
    const kinds = [...last.writes.byKind.entries()]
      .map(([kind, n]) => `${kind} ${(n / seconds).toFixed(1)}/s`)
      .join(', ');
    console.log(`${name}, write statements while TRAINING (last run): ${kinds}`);
  }
  console.log(
    "steps/s: optimizer steps between the trainer's prepared and done events as their consumer " +
      'receives them (evaluations, checkpoints and the artifact included). overhead: 1 - ' +
      'steps/s of the server run / steps/s of the trainer alone in the same round (median, and ' +
      'the range over the rounds): on a shared machine other load makes it noisy. CPU ms/step: ' +
      'CPU time of this process (all threads: trainer worker, runner, PGlite) per optimizer ' +
      'step, which other load hardly changes; CPU overhead: that of the server run over that ' +
      'of the trainer alone in the same round (PostgreSQL does its part of the work in its own ' +
      'processes, not counted here). main thread busy: share of the training time the main ' +
      'thread (API, runner, and PGlite, which runs there) was not idle; longest stall: its ' +
      'longest event-loop delay (the API cannot answer meanwhile); checkpoints: periodic ' +
      'checkpoints (CHECKPOINT_INTERVAL_MS) during the run. DB writes/s: ' +
      'INSERT/UPDATE/DELETE statements of the ' +
      'job while TRAINING (a progress flush is one transaction: an INSERT and an UPDATE).',
  );
} finally {
  for (const { server } of servers) await server.close();
  if (servers.length > 1) {
    const admin = postgres(PG_URL, { max: 1, onnotice: () => {} });
    await admin.unsafe(`DROP DATABASE IF EXISTS "${pgName}" WITH (FORCE)`);
    await admin.end();
  }
  rmSync(dir, { recursive: true, force: true });
}
