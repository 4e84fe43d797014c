import { parentPort, workerData } from 'node:worker_threads';
import { createTrainingRun } from './run.ts';
import { lowerThreadPriority } from './thread-priority.ts';
import type { TrainerEvent } from './types.ts';
import { CONTROL, type WorkerInput, type WorkerMessage } from './worker-protocol.ts';

/** The worker-thread side: runs the training loop and streams its events to the parent. */

const port = parentPort;
if (!port) throw new Error('worker-main.ts must run in a worker thread');
// The API thread first: this loop takes whatever CPU it leaves.
lowerThreadPriority();
const { options, control } = workerData as WorkerInput;
const flags = new Int32Array(control);
const run = createTrainingRun(options);

const send = (event: TrainerEvent) => {
  const bytes =
    event.type === 'checkpoint' ? event.state : event.type === 'done' ? event.artifact : null;
  const message: WorkerMessage = { kind: 'event', event };
  // Move large buffers instead of copying them.
  port.postMessage(message, bytes ? [bytes.buffer as ArrayBuffer] : []);
};

let checkpointsSeen = 0;
for (;;) {
  const requested = Atomics.load(flags, CONTROL.checkpoint);
  if (requested !== checkpointsSeen) {
    checkpointsSeen = requested;
    run.requestCheckpoint();
  }
  if (Atomics.load(flags, CONTROL.pause) === 1) run.pause();
  if (Atomics.load(flags, CONTROL.stop) === 1) run.stop();
  const next = run.next();
  if (next.done) break;
  send(next.value);
}
port.postMessage({ kind: 'end' } satisfies WorkerMessage);
