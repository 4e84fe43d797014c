import { mkdir, mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../../../logger.ts';
import type { TrainerEvent } from '../builtin/types.ts';
import type { Trainer, TrainerInput, TrainerSession } from '../port.ts';
import { describeCommand, recommendationOf } from './describe.ts';
import { trainerEnv } from './environment.ts';
import { type Exit, TrainerProcess } from './process.ts';
import { type CommandInput, type Ending, EventTranslator, parseLine } from './protocol.ts';
import { logStderrLine } from './stderr-log.ts';

export type CommandTrainerOptions = {
  /** TRAINER_COMMAND: a `/bin/sh -c` command line. */
  command: string;
  /** Where each run's temporary directory goes. Default: the OS temp directory. */
  tempRoot?: string;
  /** The trainer's working directory. Default: the server's. */
  cwd?: string;
  /** Time between SIGTERM and SIGKILL on cancel. Default 10 s. */
  killGraceMs?: number;
  logger?: Logger;
};

/** A command-trainer session (iterate it once); `pid`: the trainer's process group, once started. */
export type CommandTrainerSession = TrainerSession & { readonly pid: number | undefined };

/** The bytea limit of PostgreSQL: a checkpoint or artifact must fit into one value. */
const MAX_FILE_BYTES = 1024 * 1024 * 1024 - 1;

/** TRAINER=command: training by an external program that speaks docs/trainer-command.md. */
export function createCommandTrainer(options: CommandTrainerOptions): Trainer {
  return {
    name: 'command',
    start: (input) => startCommandSession(options, input),
    // The command's own defaults (TRAINER_MODE=describe), asked once.
    recommend: async (run) =>
      recommendationOf(
        await describeCommand(options.command, { cwd: options.cwd, logger: options.logger }),
        run,
      ),
  };
}

export function startCommandSession(
  options: CommandTrainerOptions,
  input: TrainerInput,
): CommandTrainerSession {
  const { command, tempRoot = tmpdir(), cwd = process.cwd(), killGraceMs = 10_000 } = options;
  const log = options.logger?.child({ jobId: input.jobId, trainer: 'command' });
  let dir: string | null = null;
  let proc: TrainerProcess | null = null;
  let cancelled = false;
  let pauseRequested = false;
  let checkpointPending = false;
  let wakeCancelled: () => void = () => {};
  const cancelledSignal = new Promise<null>((resolve) => {
    wakeCancelled = () => resolve(null);
  });

  const workdir = () => path.join(dir ?? '', 'work');
  const translator = new EventTranslator(async (file) => {
    const resolved = path.resolve(cwd, file);
    const { size } = await stat(resolved);
    if (size > MAX_FILE_BYTES) throw new Error(`trainer command file ${file} is over 1 GiB`);
    const bytes = await readFile(resolved);
    // Files in the work directory are handed over with their event; nothing else is touched.
    if (isInside(workdir(), resolved)) await unlink(resolved);
    return bytes;
  }, input.examples.length);

  // A trainer installs its USR1/USR2 handlers before it sends "prepared" (without one, a signal
  // kills it): requests made earlier wait until then.
  // After the artifact the run is as good as done: requests then are dropped, since a trainer
  // that is shutting down may have no handler left and would die of them.
  const sendPending = () => {
    if (!proc || !translator.prepared || translator.artifactSeen) return;
    if (pauseRequested) proc.signal('SIGUSR2');
    else if (checkpointPending) proc.signal('SIGUSR1');
    checkpointPending = false;
  };

  const cleanup = async () => {
    if (proc) await proc.terminate(killGraceMs);
    if (dir) await rm(dir, { recursive: true, force: true });
  };

  async function* events(): AsyncGenerator<TrainerEvent, void, undefined> {
    try {
      dir = await mkdtemp(path.join(tempRoot, 'trainer-command-'));
      const env = await writeInput(dir, input);
      if (cancelled) return;
      proc = new TrainerProcess({
        command,
        cwd,
        env,
        onStderrLine: log ? (line) => logStderrLine(log, line) : undefined,
      });
      let lineNumber = 0;
      for (;;) {
        const line = await Promise.race([proc.nextLine(), cancelledSignal]);
        if (cancelled) return;
        if (line === null) break;
        lineNumber++;
        const parsed = parseLine(line, lineNumber);
        if (!parsed) continue;
        const event = await translator.translate(parsed, lineNumber);
        if (cancelled) return;
        if (parsed.type === 'prepared') sendPending();
        if (event) yield event;
        if (translator.pauseAnswered) {
          // The events end here. The trainer exits on its own, or is stopped after the grace period.
          proc.discardOutput();
          await Promise.race([proc.closed, delay(killGraceMs, undefined, { ref: false })]);
          return;
        }
      }
      const exit = await proc.closed;
      if (cancelled) return;
      yield await finish(proc, exit, translator.ending());
    } catch (error) {
      // After a cancel, a missing file or a killed process is expected, not a failure.
      if (!cancelled) throw error;
    } finally {
      // Also a consumer that stops early (break, throw): it does not want the rest of the run.
      await cleanup();
    }
  }

  return {
    [Symbol.asyncIterator]: events,
    get pid() {
      return proc?.pid;
    },
    requestCheckpoint() {
      if (cancelled || pauseRequested || translator.artifactSeen) return;
      checkpointPending = true;
      sendPending();
    },
    pause() {
      if (cancelled || pauseRequested || translator.artifactSeen) return;
      pauseRequested = true;
      translator.pauseRequested();
      sendPending();
    },
    async cancel() {
      cancelled = true;
      wakeCancelled();
      await cleanup();
    },
  };
}

const isInside = (dir: string, file: string) => {
  const relative = path.relative(dir, file);
  return relative !== '' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
};

/** The input file, the checkpoint to resume from and the work directory; returns the env. */
async function writeInput(dir: string, input: TrainerInput): Promise<NodeJS.ProcessEnv> {
  const workdir = path.join(dir, 'work');
  await mkdir(workdir);
  let checkpoint: string | null = null;
  if (input.checkpoint) {
    checkpoint = path.join(dir, 'resume-checkpoint');
    await writeFile(checkpoint, input.checkpoint);
  }
  // The runner passes the whole job row as config: only the hyperparameters go out.
  const c = input.config;
  const data: CommandInput = {
    version: 1,
    jobId: input.jobId,
    config: {
      batchSize: c.batchSize,
      learningRate: c.learningRate,
      epochs: c.epochs,
      warmupSteps: c.warmupSteps,
      weightDecay: c.weightDecay,
      gradientAccumulation: c.gradientAccumulation,
      mixedPrecision: c.mixedPrecision,
      seed: c.seed,
    },
    examples: input.examples.map(({ text, label }) => ({ text, label })),
    checkpoint,
  };
  const file = path.join(dir, 'input.json');
  await writeFile(file, JSON.stringify(data));
  return trainerEnv({ TRAINER_MODE: 'train', TRAINER_INPUT: file, TRAINER_WORKDIR: workdir });
}

/** The last event of a session whose trainer exited, or the error its exit means. */
async function finish(proc: TrainerProcess, exit: Exit, ending: Ending): Promise<TrainerEvent> {
  if (exit.code === 0 && ending.kind === 'done') return ending.event;
  const detail = exit.code === 0 && ending.kind === 'none' ? ending.reason : undefined;
  throw new Error(`trainer command ${await proc.exitReason(detail)}`);
}
