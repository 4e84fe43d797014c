import { adamwStep } from './adamw.ts';
import { encodeArtifact } from './artifact.ts';
import { decodeCheckpoint, encodeCheckpoint, type RunPosition } from './checkpoint.ts';
import { DEFAULT_FEATURES, featurize, type SparseVector } from './featurize.ts';
import { runFingerprint } from './fingerprint.ts';
import { accumulateGradient } from './gradient.ts';
import { evaluate } from './metrics.ts';
import { createParams, type Params } from './params.ts';
import { learningRateAt, planSteps, type StepPlan } from './schedule.ts';
import { epochOrder, stratifiedSplit } from './split.ts';
import type { EvalMetrics, TrainerEvent, TrainingRunOptions } from './types.ts';
import { validateSettings } from './validate.ts';

export type RunPlan = StepPlan & { trainSize: number; validationSize: number; labels: string[] };

/**
 * A training run driven by pulling events (`next()` / `for…of`). Control calls take effect at
 * the next optimizer-step boundary, i.e. on the next `next()`.
 */
export type TrainingRun = IterableIterator<TrainerEvent> & {
  readonly plan: RunPlan;
  /** The next event is a checkpoint of the state after the last event; then training goes on. */
  requestCheckpoint(): void;
  /** The next event is a checkpoint; then the run ends. */
  pause(): void;
  /** The run ends without a further event. */
  stop(): void;
};

export const DEFAULT_VALIDATION_FRACTION = 0.15;

const PRECISION_NOTE = 'the CPU trainer trains in fp32 (weights and AdamW moments are Float32)';

export function createTrainingRun(options: TrainingRunOptions): TrainingRun {
  const { examples, config } = options;
  const features = { ...DEFAULT_FEATURES, ...options.features };
  const fraction = options.validationFraction ?? DEFAULT_VALIDATION_FRACTION;
  const checkpointEvery = options.checkpointEvery ?? 0;
  validateSettings(config, features, fraction, checkpointEvery);

  const { labels, train, validation } = stratifiedSplit(examples, fraction, config.seed);
  if (labels.length < 2) throw new Error('training needs examples of at least two labels');
  if (validation.length === 0)
    throw new Error('no validation examples: at least one label needs two or more examples');
  const classOf = new Map(labels.map((label, c) => [label, c]));
  const targets = examples.map((e) => classOf.get(e.label) as number);
  const vectors: SparseVector[] = examples.map((e) => featurize(e.text, features));
  const steps = planSteps(
    train.length,
    config.batchSize,
    config.gradientAccumulation,
    config.epochs,
  );
  const plan: RunPlan = {
    ...steps,
    trainSize: train.length,
    validationSize: validation.length,
    labels,
  };
  const fingerprint = runFingerprint(examples, config, fraction, features);

  let params: Params;
  let position: RunPosition;
  if (options.checkpoint) {
    const restored = decodeCheckpoint(options.checkpoint);
    const h = restored.header;
    if (h.fingerprint !== fingerprint)
      throw new Error('checkpoint belongs to a run with other examples or settings');
    if (h.totalSteps !== plan.totalSteps || h.buckets !== features.buckets)
      throw new Error('checkpoint does not match this run');
    params = restored.params;
    position = { step: h.step, epoch: h.epoch, batch: h.batch };
  } else {
    params = createParams(features.buckets, labels.length);
    position = { step: 0, epoch: 0, batch: 0 };
  }
  const resumedFromStep = position.step;

  const gWeights = new Float64Array(features.buckets * labels.length);
  const gBias = new Float64Array(labels.length);
  const probs = new Float64Array(labels.length);
  let order: number[] = [];
  let orderEpoch = -1;

  /** The epoch of the last step (1 before the first). */
  const epochOfLastStep = () =>
    position.batch === 0 && position.epoch > 0 ? position.epoch : position.epoch + 1;

  const checkpointEvent = (): TrainerEvent => ({
    type: 'checkpoint',
    step: position.step,
    epoch: epochOfLastStep(),
    state: encodeCheckpoint(
      { fingerprint, totalSteps: plan.totalSteps, labels, ...position },
      params,
    ),
  });

  /** One optimizer step over the next `gradientAccumulation` batches of this epoch. */
  const optimizerStep = (): TrainerEvent => {
    if (orderEpoch !== position.epoch) {
      order = epochOrder(train, config.seed, position.epoch);
      orderEpoch = position.epoch;
    }
    const lastBatch = Math.min(position.batch + config.gradientAccumulation, plan.batchesPerEpoch);
    const from = position.batch * config.batchSize;
    const to = Math.min(lastBatch * config.batchSize, train.length);
    // Weights change only at the optimizer step, so the accumulated batches are one pass over
    // [from, to); gradients are averaged over all their examples.
    let lossSum = 0;
    for (let i = from; i < to; i++) {
      const example = order[i] as number;
      lossSum += accumulateGradient(
        params,
        vectors[example] as SparseVector,
        targets[example] as number,
        gWeights,
        gBias,
        probs,
      );
    }
    const count = to - from;
    const learningRate = learningRateAt(
      position.step,
      config.learningRate,
      config.warmupSteps,
      plan.totalSteps,
    );
    adamwStep(
      params,
      gWeights,
      gBias,
      position.step + 1,
      learningRate,
      config.weightDecay,
      1 / count,
    );
    position.step++;
    position.batch = lastBatch;
    return {
      type: 'step',
      step: position.step,
      epoch: position.epoch + 1,
      loss: lossSum / count,
      learningRate,
      examplesSeen: position.epoch * train.length + to,
    };
  };

  const evalEvent = (final: boolean): TrainerEvent & EvalMetrics => ({
    type: 'eval',
    step: position.step,
    epoch: final ? config.epochs : position.epoch + 1,
    final,
    ...evaluate(params, vectors, targets, validation),
  });

  let checkpointWanted = false;
  let pauseWanted = false;
  let stopWanted = false;

  function* events(): Generator<TrainerEvent, void, undefined> {
    yield {
      type: 'prepared',
      totalSteps: plan.totalSteps,
      stepsPerEpoch: plan.stepsPerEpoch,
      trainSize: plan.trainSize,
      validationSize: plan.validationSize,
      labels,
      precision: 'fp32',
      resumedFromStep,
      note: config.mixedPrecision ? `mixedPrecision requested; ${PRECISION_NOTE}` : PRECISION_NOTE,
    };
    for (;;) {
      if (stopWanted) return;
      // An epoch's evaluation belongs to its last step and comes before a checkpoint at that
      // step, so that the step's point is complete once a checkpoint follows it.
      if (position.epoch < config.epochs && position.batch >= plan.batchesPerEpoch) {
        const evaluated = evalEvent(false);
        position.epoch++;
        position.batch = 0;
        yield evaluated;
        continue;
      }
      if (checkpointWanted || pauseWanted) {
        checkpointWanted = false;
        yield checkpointEvent();
        if (pauseWanted) return;
        continue;
      }
      if (position.epoch >= config.epochs) break;
      yield optimizerStep();
      if (checkpointEvery > 0 && position.step % checkpointEvery === 0) checkpointWanted = true;
    }
    const final = evalEvent(true);
    yield final;
    const { valLoss, precision, recall, f1, accuracy } = final;
    const artifact = encodeArtifact({
      labels,
      features,
      weights: params.weights,
      bias: params.bias,
    });
    yield { type: 'done', artifact, metrics: { valLoss, precision, recall, f1, accuracy } };
  }

  const generator = events();
  const run: TrainingRun = {
    plan,
    next: () => generator.next(),
    [Symbol.iterator]() {
      return run;
    },
    requestCheckpoint() {
      checkpointWanted = true;
    },
    pause() {
      pauseWanted = true;
    },
    stop() {
      stopWanted = true;
    },
  };
  return run;
}
