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

/** The port the runner trains through (TRAINER chooses the adapter). */
export type Trainer = {
  readonly name: string;
  start(input: TrainerInput): TrainerSession;
};

/** The built-in CPU trainer, in a worker thread so the API stays responsive. */
export const builtinTrainer: Trainer = {
  name: 'builtin',
  start: ({ examples, config, checkpoint }) => startTrainerWorker({ examples, config, checkpoint }),
};
