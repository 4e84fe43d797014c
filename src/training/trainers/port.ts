import { startTrainerWorker } from './builtin/index.ts';
import type { Example, TrainerConfig, TrainerEvent } from './builtin/types.ts';

/** One training run as the runner drives it, whatever trains underneath. */
export type TrainerSession = AsyncIterable<TrainerEvent> & {
  /** A `checkpoint` event follows soon; training goes on. */
  requestCheckpoint(): void;
  /** A `checkpoint` event follows soon, then the events end. */
  pause(): void;
  /** Stops at once, without a checkpoint. */
  cancel(): Promise<void>;
};

export type TrainerInput = {
  jobId: string;
  examples: readonly Example[];
  config: TrainerConfig;
  /** A previous `checkpoint` event's state to continue from. */
  checkpoint?: Uint8Array;
};

/** What a run looks like before the trainer chooses the settings left to it. */
export type RunShape = { trainExamples: number; totalSteps: number };

/** The settings a trainer recommends for a run whose config leaves them out. */
export type Recommendation = { learningRate: number; warmupSteps: number };

/** The port the runner trains through (TRAINER chooses the adapter). */
export type Trainer = {
  readonly name: string;
  start(input: TrainerInput): TrainerSession;
  /** The learning rate and warm-up this trainer learns well with, for a run of this shape. */
  recommend(run: RunShape): Recommendation | Promise<Recommendation>;
};

/**
 * The built-in trainer's recommendation, from `npm run bench:quality` on the demo corpus
 * (docs/training.md): AdamW on this convex linear model needs no warm-up, and a short run
 * (fewer than 100 optimizer steps, e.g. one state or few epochs) needs a larger step to leave
 * the uniform guess; over longer runs 0.05 keeps the validation loss falling without overfitting.
 */
export const BUILTIN_RECOMMENDATION = {
  shortRunSteps: 100,
  shortRunLearningRate: 0.1,
  learningRate: 0.05,
  warmupSteps: 0,
} as const;

function recommendBuiltin({ totalSteps }: RunShape): Recommendation {
  const r = BUILTIN_RECOMMENDATION;
  return {
    learningRate: totalSteps < r.shortRunSteps ? r.shortRunLearningRate : r.learningRate,
    warmupSteps: r.warmupSteps,
  };
}

/** The built-in CPU trainer, in a worker thread so the API stays responsive. */
export const builtinTrainer: Trainer = {
  name: 'builtin',
  start: ({ examples, config, checkpoint }) => startTrainerWorker({ examples, config, checkpoint }),
  recommend: recommendBuiltin,
};
