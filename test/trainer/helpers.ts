import { createHash } from 'node:crypto';
import { createTrainingRun } from '../../src/training/trainers/builtin/run.ts';
import type {
  TrainerConfig,
  TrainerEvent,
  TrainingRunOptions,
} from '../../src/training/trainers/builtin/types.ts';

export const baseConfig: TrainerConfig = {
  batchSize: 8,
  learningRate: 0.05,
  epochs: 3,
  warmupSteps: 4,
  weightDecay: 0.01,
  gradientAccumulation: 2,
  mixedPrecision: true,
  seed: 42,
};

/** Runs to the end, collecting every event. */
export function runAll(options: TrainingRunOptions): TrainerEvent[] {
  return [...createTrainingRun(options)];
}

export function only<T extends TrainerEvent['type']>(
  events: readonly TrainerEvent[],
  type: T,
): Extract<TrainerEvent, { type: T }>[] {
  return events.filter((e): e is Extract<TrainerEvent, { type: T }> => e.type === type);
}

export function doneOf(events: readonly TrainerEvent[]): Extract<TrainerEvent, { type: 'done' }> {
  const done = only(events, 'done')[0];
  if (!done) throw new Error('run did not finish');
  return done;
}

/** Short digest of bytes: keeps failure diffs readable (diffing big Uint8Arrays takes minutes). */
export const digest = (bytes: Uint8Array | undefined) =>
  bytes ? createHash('sha256').update(bytes).digest('hex').slice(0, 16) : 'none';

/** Events with their byte payloads replaced by digests, for comparing whole runs. */
export function comparable(events: readonly TrainerEvent[]) {
  return events.map((e) =>
    e.type === 'done'
      ? { ...e, artifact: digest(e.artifact) }
      : e.type === 'checkpoint'
        ? { ...e, state: digest(e.state) }
        : e,
  );
}
