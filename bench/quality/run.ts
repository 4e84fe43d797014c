/**
 * Quality of the built-in trainer with its recommended defaults on the bundled demo corpus:
 *   npm run bench:quality
 * Trains a job with only a name and its states (all 16, then one) through the real domain and
 * runner (in-memory PGlite), prints macro-F1, the majority-class baseline, the validation loss
 * curve, and a reference model on the SAME split: scikit-learn TF-IDF + LogisticRegression via
 * /usr/bin/python3 (Debian: apt install python3-sklearn); skipped with a message when missing.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { loadDemoCorpus } from '../../src/dataset/demo.ts';
import { trainingChunks } from '../../src/dataset/stats.ts';
import { openDatabase } from '../../src/db/client.ts';
import { EventBus } from '../../src/events/bus.ts';
import type { AppTopics } from '../../src/events/topics.ts';
import { createJob, getJob } from '../../src/training/jobs.ts';
import { pointsAfter } from '../../src/training/metrics.ts';
import { createRunner } from '../../src/training/runner/runner.ts';
import { DEFAULT_VALIDATION_FRACTION } from '../../src/training/trainers/builtin/run.ts';
import { stratifiedSplit } from '../../src/training/trainers/builtin/split.ts';
import { builtinTrainer } from '../../src/training/trainers/port.ts';
import { BUNDESLAND_CODES } from '../../src/vocabulary/bundeslaender.ts';

const PYTHON = '/usr/bin/python3';
const REFERENCE = fileURLToPath(new URL('./reference.py', import.meta.url));
const CASES = [
  { name: 'all 16 states', bundeslaender: [...BUNDESLAND_CODES] },
  { name: 'one state (NW)', bundeslaender: ['NW'] },
];

const database = await openDatabase({ kind: 'pglite' });
await database.migrate();
await loadDemoCorpus(database.db);
const events = new EventBus<AppTopics>();
const runner = createRunner({
  db: database.db,
  events,
  logger: pino({ level: 'warn' }),
  trainer: builtinTrainer,
  concurrency: 1,
  pollIntervalMs: 50,
  leaseMs: 10_000,
  flushIntervalMs: 200,
  checkpointIntervalMs: 60_000,
});
const tmp = mkdtempSync(path.join(tmpdir(), 'bench-quality-'));
const f3 = (x: number | null | undefined) => (x == null ? 'n/a' : x.toFixed(3));

try {
  for (const c of CASES) {
    const created = await createJob(database.db, builtinTrainer, {
      name: c.name,
      bundeslaender: c.bundeslaender,
    });
    const started = performance.now();
    const job = await new Promise<NonNullable<Awaited<ReturnType<typeof getJob>>>>(
      (resolve, reject) => {
        const poll = setInterval(async () => {
          const row = await getJob(database.db, created.id);
          if (row?.status === 'COMPLETED') resolve(row);
          if (row?.status === 'FAILED') reject(new Error(row.errorMessage ?? 'failed'));
          if (row && (row.status === 'COMPLETED' || row.status === 'FAILED')) clearInterval(poll);
        }, 50);
      },
    );
    const ms = performance.now() - started;
    const report = job.evaluationReport;
    const valLosses = (await pointsAfter(database.db, job.id, 0)).flatMap((p) =>
      p.valLoss === null ? [] : [p.valLoss],
    );
    const first = valLosses[0] ?? Number.NaN;
    const last = valLosses.at(-1) ?? Number.NaN;
    console.log(
      `\n== ${c.name}: defaults ${job.defaultsApplied.join(', ')} -> lr ${job.learningRate}, warm-up ${job.warmupSteps}`,
    );
    console.log(
      `   ${job.plan?.examples} examples (${job.plan?.trainExamples} train / ${job.plan?.validationExamples} validation), ${job.totalSteps} steps, ${Math.round(ms)} ms; plan warnings: ${job.plan?.warnings.map((w) => w.code).join(', ') || 'none'}`,
    );
    console.log(
      `   macro-F1 ${f3(report?.macroF1)}  accuracy ${f3(job.accuracy)}  baseline: accuracy ${f3(report?.baselineAccuracy)}, macro-F1 ${f3(report?.baselineF1)}`,
    );
    console.log(
      `   validation loss: first ${f3(first)} -> last ${f3(last)} (${((100 * (first - last)) / first).toFixed(1)} % lower; min ${f3(Math.min(...valLosses))}, ${valLosses.length} evaluations)`,
    );
    // the examples as the runner loaded them, so the split is the trainer's
    const examples = await trainingChunks(
      database.db,
      job.bundeslaender,
      job.datasetCutoff ?? undefined,
    );
    console.log(`   reference: ${reference(examples, job.seed, report?.macroF1)}`);
  }
} finally {
  await runner.stop();
  await database.close();
  rmSync(tmp, { recursive: true, force: true });
}

/** The scikit-learn reference on the split the trainer used, exported as a temporary JSON file. */
function reference(
  examples: { text: string; label: string }[],
  seed: number,
  macroF1: number | undefined,
): string {
  const split = stratifiedSplit(examples, DEFAULT_VALIDATION_FRACTION, seed);
  const file = path.join(tmp, `split-${examples.length}.json`);
  const pick = (indices: number[]) => indices.map((i) => examples[i]);
  writeFileSync(
    file,
    JSON.stringify({ train: pick(split.train), validation: pick(split.validation) }),
  );
  const result = spawnSync(PYTHON, [REFERENCE, file], { encoding: 'utf8' });
  if (result.error || result.status === 3) {
    return `skipped: scikit-learn not available (${PYTHON}; Debian: apt install python3-sklearn)`;
  }
  if (result.status !== 0) return `failed: ${result.stderr.trim()}`;
  const ref = JSON.parse(result.stdout) as { macroF1: number; accuracy: number };
  const gap = macroF1 === undefined ? Number.NaN : ref.macroF1 - macroF1;
  return `scikit-learn TF-IDF + LogisticRegression macro-F1 ${f3(ref.macroF1)}, accuracy ${f3(ref.accuracy)} (reference minus built-in: ${f3(Math.abs(gap) < 0.0005 ? 0 : gap)}; target at most 0.03)`;
}
