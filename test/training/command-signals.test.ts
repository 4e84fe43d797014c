import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainerEvent } from '../../src/training/trainers/builtin/types.ts';
import { startCommandSession } from '../../src/training/trainers/command/command-trainer.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'command-signals-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const line = (event: Record<string, unknown>) => `echo '${JSON.stringify(event)}'`;

describe('signals to a command trainer', () => {
  it('are not sent once the trainer wrote its artifact', async () => {
    const log = path.join(dir, 'signals');
    // The shell logs each USR1/USR2 with the phase it arrives in. It waits until the server has
    // taken its artifact (the file is deleted once read), and lingers before it exits.
    const command = [
      `phase=before; trap 'echo $phase >> ${log}' USR1 USR2`,
      line({
        type: 'prepared',
        totalSteps: 1,
        stepsPerEpoch: 1,
        trainSize: 1,
        validationSize: 1,
        labels: ['a', 'b'],
        precision: 'fp32',
        resumedFromStep: 0,
      }),
      line({ type: 'step', step: 1, epoch: 1, loss: 0.5, learningRate: 0.1, examplesSeen: 1 }),
      line({
        type: 'eval',
        step: 1,
        epoch: 1,
        valLoss: 0.5,
        precision: 1,
        recall: 1,
        f1: 1,
        accuracy: 1,
        final: true,
      }),
      'printf model > "$TRAINER_WORKDIR/model"',
      `echo "{\\"type\\":\\"artifact\\",\\"path\\":\\"$TRAINER_WORKDIR/model\\"}"`,
      'while [ -e "$TRAINER_WORKDIR/model" ]; do sleep 0.01; done',
      'phase=after',
      'for i in 1 2 3 4 5 6 7 8 9 10; do sleep 0.05; done',
    ].join('\n');
    const session = startCommandSession(
      { command, tempRoot: dir },
      {
        jobId: 'signals',
        examples: [
          { text: 'x', label: 'a' },
          { text: 'y', label: 'b' },
        ],
        config: {
          batchSize: 1,
          learningRate: 0.1,
          epochs: 1,
          warmupSteps: 0,
          weightDecay: 0,
          gradientAccumulation: 1,
          mixedPrecision: false,
          seed: 1,
        },
      },
    );
    const events: TrainerEvent[] = [];
    let asking: NodeJS.Timeout | undefined;
    for await (const event of session) {
      events.push(event);
      // From "prepared" on, checkpoints are asked for all the time, and a pause at the end.
      if (event.type === 'prepared') asking = setInterval(() => session.requestCheckpoint(), 5);
    }
    clearInterval(asking);
    session.pause();
    expect(events.at(-1)?.type).toBe('done');
    const phases = (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean);
    expect(phases).not.toContain('after');
  });
});
