/**
 * Throughput of the built-in trainer alone (no DB, no GraphQL) on a generated corpus:
 * in-process and through the worker-thread adapter, for two hash sizes.
 *   npx tsx bench/training/trainer.ts [chunks=3000] [epochs=3] [repeats=3]
 * Each row is the median of `repeats` runs (the machine may be shared; the load is printed).
 */
import os from 'node:os';
import {
  createTrainingRun,
  startTrainerWorker,
  type TrainerConfig,
  type TrainerEvent,
  type TrainingRunOptions,
} from '../../src/training/trainers/builtin/index.ts';
import { syntheticCorpus } from '../../test/trainer/synthetic-corpus.ts';

const chunks = Number(process.argv[2] ?? 3000);
const epochs = Number(process.argv[3] ?? 3);
const repeats = Number(process.argv[4] ?? 3);
// Chunks of 60-200 words with a long tail of rare words, closer to real documents than the tests.
const examples = syntheticCorpus({ size: chunks, seed: 1, words: [60, 200], rareWords: 0.1 });
const config: TrainerConfig = {
  batchSize: 16,
  learningRate: 0.05,
  epochs,
  warmupSteps: 10,
  weightDecay: 0.01,
  gradientAccumulation: 4,
  mixedPrecision: true,
  seed: 42,
};

type Result = {
  mode: string;
  buckets: number;
  startMs: number;
  trainMs: number;
  steps: number;
  examples: number;
  accuracy: number;
  artifactKb: number;
  checkpointKb: number;
};

/** Times `startMs` (until 'prepared') and `trainMs` (from 'prepared' to 'done'). */
async function measure(
  mode: string,
  buckets: number,
  events: AsyncIterable<TrainerEvent> | Iterable<TrainerEvent>,
  t0: number,
): Promise<Result> {
  let prepared = 0;
  const result: Result = {
    mode,
    buckets,
    startMs: 0,
    trainMs: 0,
    steps: 0,
    examples: 0,
    accuracy: 0,
    artifactKb: 0,
    checkpointKb: 0,
  };
  for await (const e of events) {
    if (e.type === 'prepared') {
      prepared = performance.now();
      result.startMs = prepared - t0;
    } else if (e.type === 'step') {
      result.steps++;
      result.examples = e.examplesSeen;
    } else if (e.type === 'checkpoint') {
      result.checkpointKb = e.state.length / 1024;
    } else if (e.type === 'done') {
      result.trainMs = performance.now() - prepared;
      result.accuracy = e.metrics.accuracy;
      result.artifactKb = e.artifact.length / 1024;
    }
  }
  return result;
}

const median = (runs: Result[]): Result => {
  const sorted = [...runs].sort((a, b) => a.trainMs - b.trainMs);
  return sorted[Math.floor(sorted.length / 2)] as Result;
};

const results: Result[] = [];
for (const buckets of [1 << 16, 1 << 18]) {
  const options: TrainingRunOptions = {
    examples,
    config,
    features: { buckets },
    // One checkpoint in the middle, to report its size (its cost is included in the times).
    checkpointEvery: Math.ceil((epochs * Math.ceil(Math.ceil((chunks * 0.85) / 16) / 4)) / 2),
  };
  const inProcess: Result[] = [];
  const worker: Result[] = [];
  for (let r = 0; r < repeats; r++) {
    let t0 = performance.now();
    inProcess.push(await measure('in-process', buckets, createTrainingRun(options), t0));
    t0 = performance.now();
    worker.push(await measure('worker', buckets, startTrainerWorker(options), t0));
  }
  results.push(median(inProcess), median(worker));
}

console.log(
  `trainer benchmark: ${chunks} chunks (60-200 words), ${epochs} epochs, batch ${config.batchSize} x ` +
    `accumulation ${config.gradientAccumulation}, unigrams+bigrams; node ${process.version}, ` +
    `${os.cpus().length} cpus (${os.cpus()[0]?.model ?? 'unknown'}), load average ` +
    `${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}; median of ${repeats} runs`,
);
console.table(
  results.map((r) => ({
    mode: r.mode,
    buckets: `2^${Math.log2(r.buckets)}`,
    'start ms': Math.round(r.startMs),
    'train ms': Math.round(r.trainMs),
    steps: r.steps,
    'steps/s': Math.round((r.steps / r.trainMs) * 1000),
    'examples/s': Math.round((r.examples / r.trainMs) * 1000),
    accuracy: r.accuracy.toFixed(3),
    'artifact KiB': Math.round(r.artifactKb),
    'checkpoint KiB': Math.round(r.checkpointKb),
  })),
);
console.log(
  "start ms: until the 'prepared' event (split + featurizing; for the worker also thread start " +
    'and tsx registration). train ms: prepared -> done, incl. evals, one checkpoint and the artifact.',
);
