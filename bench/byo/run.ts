/**
 * Bring your own training code (issue 16, "Done when"): the PyTorch example trainer on the demo
 * corpus, alone and under the server's runner, and its model serving `classify`.
 *
 *   npm run bench:byo
 *   BENCH_STATES=NW,BY (default: all 16)  BENCH_EPOCHS=50  BENCH_ROUNDS=3  BENCH_REQUESTS=200
 *
 * Needs /usr/bin/python3 with torch (Debian: apt-get install -y python3-torch); without it, it
 * says so and exits 0. One server, started as users start it (`npm start`'s command, PGlite in a
 * temporary DATA_DIR, the demo corpus loaded at start, TRAINER=command with TRAINER_COMMAND
 * running examples/trainer-pytorch/train.py, every other setting at its default); jobs created
 * over HTTP with only a name, the states and the epochs, so the trainer's describe answer gives
 * the learning rate and warm-up, as for a user who leaves them out.
 *
 * Steps/s, the same measure on both sides: the steps from the first of the second epoch to the
 * last, over the time between receiving those two, each time taken by whoever reads the
 * trainer's stdout. Alone, that is the kit's harness (bench/byo/alone.py: the server's way of
 * starting a trainer, no server), given the job's config and the examples the runner gives the
 * job (the demo corpus imported the same way, the same states); under the runner, the job's
 * metric points, whose timestamps are the moments the runner received those steps. Why not from
 * step 1: while the runner still records the start of the run, the first step lines wait in
 * the pipe (it holds hundreds) and reach it late, together, which shortens the runner's window
 * (timed from step 1, the runner came out up to twice as fast as the trainer alone). Process
 * start, model building and the artifact are outside both windows; the evaluations after each
 * epoch and, under the runner, its periodic checkpoints (CHECKPOINT_INTERVAL_MS, 10 s) are
 * inside. Hence 50 epochs by default rather than the API's 10: about ten seconds of training
 * here rather than two, so a periodic checkpoint falls in it. A warm-up round comes first (its figures not counted), then
 * rounds in turns (alone first, then the server first, ...), each server run compared with the
 * run alone of its own round: the load of a shared machine drifts, and so weighs on both sides
 * alike. Figures: medians of the rounds.
 *
 * classify: one text (a demo chunk) through POST /graphql, one request after another, after the
 * last job completed (its predict process already started by the champion evaluation) and one
 * untimed call more; client-side latency, p50 and p95. Macro-F1 and the majority baseline: the
 * last job's version, as the champion evaluation scored it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDemoCorpus } from '../../src/dataset/demo.ts';
import { trainingChunks } from '../../src/dataset/stats.ts';
import { openDatabase } from '../../src/db/client.ts';
import type { TrainerConfig } from '../../src/training/trainers/builtin/types.ts';
import { BUNDESLAND_CODES } from '../../src/vocabulary/bundeslaender.ts';
import { startChild, stopChild } from '../../test/support/processes.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ALONE = fileURLToPath(new URL('./alone.py', import.meta.url));
const PYTHON = '/usr/bin/python3';
const TRAINER_COMMAND = `${PYTHON} examples/trainer-pytorch/train.py`;
const TOKEN = 'bench-admin-token-0123456789';
const chosen = (process.env.BENCH_STATES ?? '').split(',').filter(Boolean);
const STATES = chosen.length > 0 ? chosen : [...BUNDESLAND_CODES];
const EPOCHS = Number(process.env.BENCH_EPOCHS ?? 50);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200);

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const percentile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const f3 = (x: number | null | undefined) => (x == null ? 'n/a' : x.toFixed(3));

const torch = spawnSync(
  PYTHON,
  ['-c', 'import sys, torch; print(torch.__version__, sys.version.split()[0])'],
  {
    encoding: 'utf8',
  },
);
if (torch.error || torch.status !== 0) {
  console.log(
    `bench:byo skipped: ${PYTHON} with torch is needed (Debian: apt-get install -y python3-torch)`,
  );
  process.exit(0);
}
const [torchVersion, pythonVersion] = torch.stdout.trim().split(' ');

/** Steps from `from` to the last, and the seconds between receiving those two. */
type Rate = { from: number; to: number; seconds: number };
const stepsPerSecond = ({ from, to, seconds }: Rate) => (to - from) / seconds;
/**
 * The first step of the timed window: of the second epoch (the history query gives at most
 * the last 1000 points).
 */
const windowStart = (totalSteps: number, stepsPerEpoch: number) =>
  Math.max(totalSteps > stepsPerEpoch ? stepsPerEpoch + 1 : 1, totalSteps - 999);

const dir = mkdtempSync(path.join(tmpdir(), 'bench-byo-'));
const server = startChild({
  DATA_DIR: path.join(dir, 'data'),
  DATABASE_URL: '',
  AUTH_TOKENS: `${TOKEN}:admin`,
  DEMO_DATA: 'true',
  TRAINER: 'command',
  TRAINER_COMMAND,
});

try {
  const url = await server.ready;
  while (!/demo data: /.test(server.output())) await new Promise((r) => setTimeout(r, 100));

  async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: T; errors?: { message: string }[] };
    if (body.errors?.length || !body.data) {
      throw new Error(`GraphQL: ${JSON.stringify(body.errors ?? body)}`);
    }
    return body.data;
  }

  // The examples the runner gives a job on these states: the demo corpus, imported as the
  // server imports it.
  const examples = await (async () => {
    const database = await openDatabase({ kind: 'pglite' });
    try {
      await database.migrate();
      await loadDemoCorpus(database.db);
      return await trainingChunks(database.db, STATES);
    } finally {
      await database.close();
    }
  })();

  type Version = {
    evaluation: { decision: string; reason: string; championF1: number | null } | null;
    metrics: { macroF1: number | null; baselineF1: number | null };
  };
  type Job = {
    status: string;
    errorMessage: string | null;
    history: { step: number; timestamp: string }[];
    modelVersion: Version | null;
  };

  /** A job through the API, until it ended: its config, steps/s and version. */
  async function serverRun(): Promise<
    Rate & { config: TrainerConfig; stepsPerEpoch: number; version: Version }
  > {
    const { createTrainingJob: created } = await gql<{
      createTrainingJob: {
        id: string;
        config: TrainerConfig;
        plan: { examples: number; totalSteps: number; stepsPerEpoch: number };
      };
    }>(
      `mutation($input: TrainingConfigInput!) { createTrainingJob(input: $input) {
        id plan { examples totalSteps stepsPerEpoch }
        config { batchSize learningRate epochs warmupSteps weightDecay gradientAccumulation mixedPrecision seed }
      } }`,
      { input: { name: 'bench byo', bundeslaender: STATES, epochs: EPOCHS } },
    );
    if (created.plan.examples !== examples.length) {
      throw new Error(`the job has ${created.plan.examples} examples, alone ${examples.length}`);
    }
    const { totalSteps, stepsPerEpoch } = created.plan;
    const from = windowStart(totalSteps, stepsPerEpoch);
    for (;;) {
      // Once a second: the poll costs the server next to nothing.
      await new Promise((r) => setTimeout(r, 1000));
      const { trainingJob: job } = await gql<{ trainingJob: Job }>(
        `query($id: ID!, $last: Int!) { trainingJob(id: $id) {
          status errorMessage
          history(last: $last) { step timestamp }
          modelVersion { evaluation { decision reason championF1 } metrics { macroF1 baselineF1 } }
        } }`,
        { id: created.id, last: totalSteps - from + 1 },
      );
      if (job.status === 'FAILED') throw new Error(`the job failed: ${job.errorMessage}`);
      if (job.status !== 'COMPLETED' || !job.modelVersion) continue;
      const first = job.history[0];
      const last = job.history.at(-1);
      if (first?.step !== from || last?.step !== totalSteps) throw new Error('points missing');
      return {
        from,
        to: totalSteps,
        seconds: (Date.parse(last.timestamp) - Date.parse(first.timestamp)) / 1000,
        config: created.config,
        stepsPerEpoch,
        version: job.modelVersion,
      };
    }
  }

  /** The trainer alone on the job's input, timed over the job's window. */
  function aloneRun(config: TrainerConfig, stepsPerEpoch: number): Rate {
    const input = path.join(dir, 'input.json');
    writeFileSync(input, JSON.stringify({ config, examples }));
    const result = spawnSync(PYTHON, [ALONE, TRAINER_COMMAND, input], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    if (result.status !== 0) throw new Error(`alone.py failed: ${result.stderr}`);
    const run = JSON.parse(result.stdout) as { times: number[]; stepsPerEpoch: number };
    if (run.stepsPerEpoch !== stepsPerEpoch) throw new Error('alone, the epochs differ');
    const from = windowStart(run.times.length, stepsPerEpoch);
    const to = run.times.length;
    return { from, to, seconds: (run.times[to - 1] as number) - (run.times[from - 1] as number) };
  }

  const loadBefore = load();
  const warmUp = await serverRun();
  const config = warmUp.config;
  const { stepsPerEpoch } = warmUp;
  aloneRun(config, stepsPerEpoch);
  const rounds: { alone: Rate; server: Rate }[] = [];
  let last = warmUp;
  for (let round = 1; round <= ROUNDS; round++) {
    let alone: Rate | undefined;
    if (round % 2 === 1) alone = aloneRun(config, stepsPerEpoch);
    last = await serverRun();
    if (JSON.stringify(last.config) !== JSON.stringify(config)) throw new Error('config changed');
    alone ??= aloneRun(config, stepsPerEpoch);
    rounds.push({ alone, server: last });
  }

  const text = examples[0]?.text ?? '';
  const CLASSIFY = `query($text: String!) { classify(text: $text, modelType: ZEUGNIS) { label } }`;
  await gql(CLASSIFY, { text });
  const latencies: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const began = performance.now();
    await gql(CLASSIFY, { text });
    latencies.push(performance.now() - began);
  }

  console.log(
    `bench:byo: node ${process.version}, torch ${torchVersion} (python ${pythonVersion}), ` +
      `load average ${loadBefore} before, ${load()} after`,
  );
  console.log(
    `PyTorch example, ${examples.length} demo chunks (${STATES.length === BUNDESLAND_CODES.length ? 'all 16 states' : STATES.join(',')}), ` +
      `${warmUp.to} steps, timed from step ${warmUp.from}; config ${JSON.stringify(config)}; ${ROUNDS} rounds after a warm-up`,
  );
  console.table(
    Object.fromEntries(
      rounds.map(({ alone, server }, i) => [
        `round ${i + 1}`,
        {
          'alone steps/s': stepsPerSecond(alone).toFixed(1),
          'runner steps/s': stepsPerSecond(server).toFixed(1),
          overhead: `${((1 - stepsPerSecond(server) / stepsPerSecond(alone)) * 100).toFixed(1)} %`,
        },
      ]),
    ),
  );
  const overheads = rounds.map(
    ({ alone, server }) => 1 - stepsPerSecond(server) / stepsPerSecond(alone),
  );
  const alone = median(rounds.map((r) => stepsPerSecond(r.alone)));
  const underRunner = median(rounds.map((r) => stepsPerSecond(r.server)));
  console.log(
    `steps/s (median): alone ${alone.toFixed(1)}, under the runner ${underRunner.toFixed(1)}; ` +
      `overhead ${(median(overheads) * 100).toFixed(1)} % (target at most 5 %)`,
  );
  const { metrics, evaluation } = last.version;
  console.log(
    `last version: macro-F1 ${f3(metrics.macroF1)} vs majority baseline ${f3(metrics.baselineF1)}; ` +
      `${evaluation?.decision ?? 'no evaluation'} (champion ${f3(evaluation?.championF1)}: ${evaluation?.reason ?? ''})`,
  );
  console.log(
    `classify, one text (${text.split(/\s+/).length} words), warm, ${REQUESTS} sequential calls over HTTP: ` +
      `p50 ${percentile(latencies, 0.5).toFixed(2)} ms, p95 ${percentile(latencies, 0.95).toFixed(2)} ms (target p50 < 20 ms)`,
  );
} finally {
  await stopChild(server.child, server.exited);
  rmSync(dir, { recursive: true, force: true });
}
