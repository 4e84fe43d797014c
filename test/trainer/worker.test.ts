import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { describe, expect, it } from 'vitest';
import { TRAINER_NICENESS } from '../../src/training/trainers/builtin/thread-priority.ts';
import type { TrainerEvent } from '../../src/training/trainers/builtin/types.ts';
import {
  startTrainerWorker,
  type TrainerWorker,
} from '../../src/training/trainers/builtin/worker.ts';
import { baseConfig, comparable, digest, doneOf, only, runAll } from './helpers.ts';
import { syntheticCorpus } from './synthetic-corpus.ts';

// Long enough (20 epochs) that a pause sent after a few steps lands well before the end.
const examples = syntheticCorpus({ size: 300, seed: 9 });
const config = { ...baseConfig, epochs: 20 };
const reference = runAll({ examples, config });
const trained = reference.filter((e) => e.type !== 'prepared');

/** The niceness of each of this process's threads (Linux), from field 19 of its stat line. */
function threadNiceness(): number[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    // fields after the command name, which is in parentheses and may hold spaces
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[16]);
  });
}

async function collect(
  worker: TrainerWorker,
  onEvent?: (event: TrainerEvent) => void,
): Promise<TrainerEvent[]> {
  const events: TrainerEvent[] = [];
  for await (const event of worker) {
    events.push(event);
    onEvent?.(event);
  }
  return events;
}

describe('trainer worker', () => {
  it('runs the same training as in-process while the main thread stays responsive', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const events = await collect(startTrainerWorker({ examples, config }));
    clearInterval(timer);
    expect(comparable(events)).toEqual(comparable(reference));
    expect(ticks).toBeGreaterThan(10);
  });

  it('pauses with a checkpoint and resumes in a new worker to the same result', async () => {
    const first = startTrainerWorker({ examples, config });
    const before = await collect(first, (e) => {
      if (e.type === 'step' && e.step === 5) first.pause();
    });
    expect(await first.exited).toBe(0);
    const checkpoint = before.at(-1);
    if (checkpoint?.type !== 'checkpoint')
      throw new Error(`expected a checkpoint, got ${checkpoint?.type}`);
    expect(only(before, 'done')).toHaveLength(0);
    expect(checkpoint.step).toBeGreaterThanOrEqual(5);
    expect(checkpoint.step).toBeLessThan(only(reference, 'step').length);

    const after = await collect(
      startTrainerWorker({ examples, config, checkpoint: checkpoint.state }),
    );
    expect(after[0]).toMatchObject({ type: 'prepared', resumedFromStep: checkpoint.step });
    const combined = [...before.slice(1, -1), ...after.slice(1)];
    expect(comparable(combined)).toEqual(comparable(trained));
    expect(digest(doneOf(after).artifact)).toBe(digest(doneOf(reference).artifact));
  });

  it('sends a checkpoint on request and keeps training', async () => {
    const worker = startTrainerWorker({ examples, config });
    let requested = false;
    const events = await collect(worker, (e) => {
      if (e.type === 'step' && !requested) {
        requested = true;
        worker.requestCheckpoint();
      }
    });
    expect(only(events, 'checkpoint')).toHaveLength(1);
    expect(comparable(events.filter((e) => e.type !== 'checkpoint'))).toEqual(
      comparable(reference),
    );
  });

  it('cancel() stops the worker without a checkpoint or result', async () => {
    const worker = startTrainerWorker({ examples, config });
    const events = await collect(worker, (e) => {
      if (e.type === 'step' && e.step === 3) void worker.cancel();
    });
    expect(only(events, 'done')).toHaveLength(0);
    expect(only(events, 'checkpoint')).toHaveLength(0);
    expect(await worker.exited).toBe(1);
  });

  it('breaking out of the loop cancels the worker', async () => {
    const worker = startTrainerWorker({ examples, config });
    for await (const event of worker) if (event.type === 'step') break;
    expect(await worker.exited).toBe(1);
  });

  it.runIf(process.platform === 'linux' && getPriority() < 19)(
    'trains in a thread nicer than the process, so the API thread comes first',
    async () => {
      const processNiceness = getPriority();
      const expected = Math.min(19, processNiceness + TRAINER_NICENESS);
      expect(threadNiceness()).not.toContain(expected);
      const worker = startTrainerWorker({ examples, config });
      let during: number[] = [];
      for await (const event of worker) {
        if (event.type !== 'step') continue;
        during = threadNiceness();
        break;
      }
      await worker.exited;
      expect(during.filter((n) => n === expected)).toHaveLength(1);
      expect(getPriority()).toBe(processNiceness);
    },
  );

  it('reports errors of the run', async () => {
    const worker = startTrainerWorker({ examples, config: { ...config, batchSize: 0 } });
    await expect(collect(worker)).rejects.toThrow(/batchSize must be an integer/);
  });
});
