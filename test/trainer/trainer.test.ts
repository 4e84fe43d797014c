import { describe, expect, it } from 'vitest';
import { createTrainingRun } from '../../src/training/trainers/builtin/run.ts';
import { learningRateAt } from '../../src/training/trainers/builtin/schedule.ts';
import type { TrainerEvent } from '../../src/training/trainers/builtin/types.ts';
import { baseConfig, comparable, digest, doneOf, only, runAll } from './helpers.ts';
import { syntheticCorpus } from './synthetic-corpus.ts';

const examples = syntheticCorpus({ size: 400, seed: 1 });
const config = baseConfig;
// Shared by several tests: one uninterrupted reference run.
const reference = runAll({ examples, config });

describe('training run', () => {
  it('learns the document types well above chance, but not perfectly', () => {
    const done = doneOf(reference);
    const evals = only(reference, 'eval');
    // Chance is 25%; the corpus has ~11% chunks written in another type's words.
    expect(done.metrics.accuracy).toBeGreaterThan(0.75);
    expect(done.metrics.accuracy).toBeLessThan(1);
    expect(done.metrics.f1).toBeGreaterThan(0.7);
    expect(done.metrics.valLoss).toBeLessThan(Math.log(4) * 0.75);
    expect(done.metrics.valLoss).toBeLessThan((evals[0] as { valLoss: number }).valLoss);
    const losses = only(reference, 'step').map((e) => e.loss);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-10))).toBeLessThan(mean(losses.slice(0, 5)) * 0.7);
  });

  it('emits prepared, one step per optimizer step, an eval per epoch, a final eval and done', () => {
    const prepared = reference[0] as Extract<TrainerEvent, { type: 'prepared' }>;
    expect(prepared).toMatchObject({
      type: 'prepared',
      trainSize: 340,
      validationSize: 60,
      labels: ['erlass', 'handreichung', 'schulordnung', 'verordnung'],
      precision: 'fp32',
      resumedFromStep: 0,
      stepsPerEpoch: 22, // ceil(ceil(340 / 8) / 2)
      totalSteps: 66,
    });
    expect(prepared.note).toMatch(/fp32/);
    const steps = only(reference, 'step');
    expect(steps.map((s) => s.step)).toEqual(Array.from({ length: 66 }, (_, i) => i + 1));
    expect(steps.map((s) => s.epoch)).toEqual(
      Array.from({ length: 66 }, (_, i) => Math.floor(i / 22) + 1),
    );
    expect(steps.at(-1)?.examplesSeen).toBe(3 * 340);
    const evals = only(reference, 'eval');
    expect(evals.map((e) => [e.epoch, e.step, e.final])).toEqual([
      [1, 22, false],
      [2, 44, false],
      [3, 66, false],
      [3, 66, true],
    ]);
    const { type: _a, final: _b, ...lastEpoch } = evals[2] as (typeof evals)[number];
    const { type: _c, final: _d, ...final } = evals[3] as (typeof evals)[number];
    expect(final).toEqual(lastEpoch);
    expect(doneOf(reference).metrics).toEqual({
      valLoss: final.valLoss,
      precision: final.precision,
      recall: final.recall,
      f1: final.f1,
      accuracy: final.accuracy,
    });
    expect(reference.at(-1)?.type).toBe('done');
    expect(only(reference, 'checkpoint')).toHaveLength(0);
  });

  it('uses the warmup/decay schedule for each step', () => {
    const steps = only(reference, 'step');
    expect(steps[0]?.learningRate).toBe(0);
    expect(steps[2]?.learningRate).toBeCloseTo(0.025, 15);
    expect(steps[4]?.learningRate).toBeCloseTo(0.05, 15);
    steps.forEach((s) => {
      expect(s.learningRate).toBe(learningRateAt(s.step - 1, 0.05, 4, 66));
    });
    expect(steps.at(-1)?.learningRate).toBeCloseTo(0.05 / 62, 15);
  });

  it.each([
    { batchSize: 8, gradientAccumulation: 1 },
    { batchSize: 8, gradientAccumulation: 3 },
    { batchSize: 16, gradientAccumulation: 4 },
    { batchSize: 32, gradientAccumulation: 32 },
  ])('does one optimizer step per accumulation group: %o', (setting) => {
    const small = syntheticCorpus({ size: 120, seed: 2 });
    const events = runAll({ examples: small, config: { ...config, ...setting, epochs: 2 } });
    const prepared = events[0] as Extract<TrainerEvent, { type: 'prepared' }>;
    const train = prepared.trainSize;
    const perStep = setting.batchSize * setting.gradientAccumulation;
    const stepsPerEpoch = Math.ceil(
      Math.ceil(train / setting.batchSize) / setting.gradientAccumulation,
    );
    expect(prepared.stepsPerEpoch).toBe(stepsPerEpoch);
    expect(prepared.totalSteps).toBe(2 * stepsPerEpoch);
    const steps = only(events, 'step');
    expect(steps).toHaveLength(2 * stepsPerEpoch);
    // Each step consumes a full accumulation group, except an epoch's last (partial) one.
    const consumed = steps.map(
      (s, i) => s.examplesSeen - (i === 0 ? 0 : (steps[i - 1]?.examplesSeen ?? 0)),
    );
    const epoch = Array.from({ length: stepsPerEpoch }, (_, i) =>
      Math.min(perStep, train - i * perStep),
    );
    expect(consumed).toEqual([...epoch, ...epoch]);
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const again = runAll({ examples, config });
    expect(digest(doneOf(again).artifact)).toBe(digest(doneOf(reference).artifact));
    expect(only(again, 'step')).toEqual(only(reference, 'step'));
    const other = runAll({ examples, config: { ...config, seed: 43 } });
    expect(digest(doneOf(other).artifact)).not.toBe(digest(doneOf(reference).artifact));
  });

  it('ignores mixedPrecision in the numbers but reports fp32', () => {
    const fp = runAll({ examples, config: { ...config, mixedPrecision: false } });
    expect(digest(doneOf(fp).artifact)).toBe(digest(doneOf(reference).artifact));
    expect(fp[0]).toMatchObject({ precision: 'fp32' });
  });
});

/** Pauses wherever `pauseAfter` says, resumes from the checkpoint in a fresh run, to the end. */
function runWithPauses(pauseAfter: (event: TrainerEvent, index: number) => boolean) {
  const events: TrainerEvent[] = [];
  let checkpoint: Uint8Array | undefined;
  let pauses = 0;
  let index = 0;
  for (;;) {
    const run = createTrainingRun({ examples, config, checkpoint });
    checkpoint = undefined;
    for (const event of run) {
      if (event.type === 'checkpoint') {
        checkpoint = event.state;
        continue;
      }
      if (event.type !== 'prepared') events.push(event);
      if (event.type !== 'prepared' && pauseAfter(event, index++)) run.pause();
    }
    if (!checkpoint) return { events, pauses };
    pauses++;
  }
}

describe('checkpoints', () => {
  const trained = reference.filter((e) => e.type !== 'prepared');

  it('resuming after pauses gives exactly the uninterrupted run', () => {
    const at = (step: number) => (e: TrainerEvent) => e.type === 'step' && e.step === step;
    const points = [
      at(1),
      at(7), // mid-epoch
      at(22), // last step of epoch 1: its eval comes before the pause checkpoint
      (e: TrainerEvent) => e.type === 'eval' && e.epoch === 2, // right after an eval
      at(53),
      at(66), // before the final eval
    ];
    const { events, pauses } = runWithPauses((e) => points.some((p) => p(e)));
    expect(pauses).toBe(6);
    expect(comparable(events)).toEqual(comparable(trained));
  });

  it('reports where it resumed', () => {
    const first = createTrainingRun({ examples, config });
    let state: Uint8Array | undefined;
    for (const e of first) {
      if (e.type === 'step' && e.step === 30) first.pause();
      if (e.type === 'checkpoint') state = e.state;
    }
    const resumed = createTrainingRun({ examples, config, checkpoint: state });
    expect(resumed.next().value).toMatchObject({ type: 'prepared', resumedFromStep: 30 });
    expect(resumed.next().value).toMatchObject({ type: 'step', step: 31, epoch: 2 });
  });

  it('checkpoints every N steps and on request without changing the run', () => {
    const run = createTrainingRun({ examples, config, checkpointEvery: 20 });
    const events: TrainerEvent[] = [];
    for (const e of run) {
      events.push(e);
      if (e.type === 'step' && e.step === 33) run.requestCheckpoint();
    }
    const checkpoints = only(events, 'checkpoint');
    expect(checkpoints.map((c) => [c.step, c.epoch])).toEqual([
      [20, 1],
      [33, 2],
      [40, 2],
      [60, 3],
    ]);
    expect(comparable(events.filter((e) => e.type !== 'checkpoint'))).toEqual(
      comparable(reference),
    );
    // A periodic checkpoint resumes like any other.
    const resumed = [
      ...createTrainingRun({ examples, config, checkpoint: checkpoints[1]?.state }),
    ].filter((e) => e.type !== 'prepared');
    expect(comparable(resumed)).toEqual(
      comparable(trained).slice(trained.findIndex((e) => e.type === 'step' && e.step === 34)),
    );
  });

  it("an epoch's evaluation comes before a checkpoint at its last step", () => {
    const run = createTrainingRun({ examples, config, checkpointEvery: 22 });
    const around = [...run]
      .flatMap((e) =>
        e.type === 'step' || e.type === 'eval' || e.type === 'checkpoint'
          ? [`${e.type} ${e.step} (epoch ${e.epoch})`]
          : [],
      )
      .filter((e) => !e.startsWith('step') || /step (22|44|66) /.test(e));
    expect(around).toEqual([
      'step 22 (epoch 1)',
      'eval 22 (epoch 1)',
      'checkpoint 22 (epoch 1)',
      'step 44 (epoch 2)',
      'eval 44 (epoch 2)',
      'checkpoint 44 (epoch 2)',
      'step 66 (epoch 3)',
      'eval 66 (epoch 3)',
      'checkpoint 66 (epoch 3)',
      'eval 66 (epoch 3)',
    ]);
  });

  it('is compact: only buckets the data touched are stored', () => {
    const run = createTrainingRun({ examples, config, checkpointEvery: 66 });
    const state = only([...run], 'checkpoint')[0]?.state;
    expect(state).toBeDefined();
    // Dense weights + two moments would be 2^18 * 4 * 3 * 4 bytes = 12.6 MB.
    expect(state?.length).toBeLessThan(1_000_000);
  });

  it('rejects a checkpoint of another run and garbage', () => {
    const run = createTrainingRun({ examples, config, checkpointEvery: 5 });
    const state = only([...run], 'checkpoint')[0]?.state as Uint8Array;
    expect(() =>
      createTrainingRun({ examples, config: { ...config, learningRate: 0.01 }, checkpoint: state }),
    ).toThrow(/other examples or settings/);
    expect(() =>
      createTrainingRun({ examples: examples.slice(1), config, checkpoint: state }),
    ).toThrow(/other examples or settings/);
    expect(() =>
      createTrainingRun({
        examples,
        config,
        checkpoint: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]),
      }),
    ).toThrow(/not a trainer checkpoint/);
    // mixedPrecision does not change the numbers, so it may differ on resume.
    expect(() =>
      createTrainingRun({
        examples,
        config: { ...config, mixedPrecision: false },
        checkpoint: state,
      }),
    ).not.toThrow();
  });
});

describe('control and validation', () => {
  it('stop() ends the run without further events', () => {
    const run = createTrainingRun({ examples, config });
    run.next();
    run.next();
    run.stop();
    expect(run.next().done).toBe(true);
  });

  it('rejects settings it cannot honour, naming the field', () => {
    expect(() => createTrainingRun({ examples, config: { ...config, batchSize: 0 } })).toThrow(
      /batchSize/,
    );
    expect(() =>
      createTrainingRun({ examples, config: { ...config, gradientAccumulation: 1.5 } }),
    ).toThrow(/gradientAccumulation/);
    expect(() => createTrainingRun({ examples, config, checkpointEvery: -1 })).toThrow(
      /checkpointEvery/,
    );
    const oneLabel = examples.map((e) => ({ ...e, label: 'erlass' }));
    expect(() => createTrainingRun({ examples: oneLabel, config })).toThrow(/two labels/);
  });
});
