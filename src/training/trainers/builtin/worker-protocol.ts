import type { TrainerEvent, TrainingRunOptions } from './types.ts';

/** What the adapter hands the worker thread. */
export type WorkerInput = {
  options: TrainingRunOptions;
  /** Int32 flags the API thread sets and the busy worker polls between steps (no event loop needed). */
  control: SharedArrayBuffer;
};

/** Indices into the control flags. */
export const CONTROL = {
  /** Incremented for each checkpoint request. */
  checkpoint: 0,
  pause: 1,
  stop: 2,
} as const;
export const CONTROL_SLOTS = 3;

export type WorkerMessage = { kind: 'event'; event: TrainerEvent } | { kind: 'end' };
