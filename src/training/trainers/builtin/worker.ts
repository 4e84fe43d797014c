import { Worker } from 'node:worker_threads';
import type { TrainerEvent, TrainingRunOptions } from './types.ts';
import { CONTROL, CONTROL_SLOTS, type WorkerInput, type WorkerMessage } from './worker-protocol.ts';

/** A training run in a worker thread, so the API process stays responsive. Iterate it once. */
export type TrainerWorker = AsyncIterable<TrainerEvent> & {
  /** A checkpoint event follows at the next optimizer-step boundary; training goes on. */
  requestCheckpoint(): void;
  /** The worker sends a checkpoint event at the next boundary, then the events end. */
  pause(): void;
  /** Stops the worker at once; the events end without a checkpoint. */
  cancel(): Promise<void>;
  /** Resolves with the worker's exit code. */
  readonly exited: Promise<number>;
};

const ENTRY = new URL('./worker-entry.mjs', import.meta.url);

export function startTrainerWorker(options: TrainingRunOptions): TrainerWorker {
  const control = new SharedArrayBuffer(CONTROL_SLOTS * Int32Array.BYTES_PER_ELEMENT);
  const flags = new Int32Array(control);
  const input: WorkerInput = { options, control };
  const worker = new Worker(ENTRY, { workerData: input });

  const queue: TrainerEvent[] = [];
  let waiting: (() => void) | null = null;
  let ended = false;
  let cancelled = false;
  let failure: unknown = null;
  const wake = () => {
    const resolve = waiting;
    waiting = null;
    resolve?.();
  };

  worker.on('message', (message: WorkerMessage) => {
    if (message.kind === 'event') queue.push(message.event);
    else ended = true;
    wake();
  });
  worker.on('error', (error) => {
    failure = error;
    wake();
  });
  const exited = new Promise<number>((resolve) => {
    worker.on('exit', (code) => {
      if (!ended && !cancelled && failure === null)
        failure = new Error(`trainer worker exited with code ${code} before finishing`);
      ended = true;
      wake();
      resolve(code);
    });
  });

  const cancel = async () => {
    cancelled = true;
    wake();
    await worker.terminate();
  };

  async function* events(): AsyncGenerator<TrainerEvent, void, undefined> {
    try {
      for (;;) {
        if (cancelled) return;
        const event = queue.shift();
        if (event) {
          yield event;
          continue;
        }
        if (failure !== null) throw failure;
        if (ended) return;
        await new Promise<void>((resolve) => {
          waiting = resolve;
        });
      }
    } finally {
      // A consumer that stops early (break, throw) does not want the rest of the run.
      if (!ended) await cancel();
    }
  }

  return {
    [Symbol.asyncIterator]: events,
    requestCheckpoint: () => {
      Atomics.add(flags, CONTROL.checkpoint, 1);
    },
    pause: () => {
      Atomics.store(flags, CONTROL.pause, 1);
    },
    cancel,
    exited,
  };
}
