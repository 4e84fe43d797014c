import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../../logger.ts';
import type { Classification } from '../trainers/builtin/index.ts';
import { trainerEnv } from '../trainers/command/environment.ts';
import { type Exit, LINE_TIMEOUT, TrainerProcess } from '../trainers/command/process.ts';
import { logStderrLine } from '../trainers/command/stderr-log.ts';
import { PredictRequestError, parseAnswer, parseReady } from './answer.ts';

export type ModelProcessOptions = {
  /** The command, run through `/bin/sh -c` with TRAINER_MODE=predict. */
  command: string;
  cwd: string;
  /** Which model it serves, for log lines and errors (a version's id). */
  modelId: string;
  artifact: Uint8Array;
  startTimeoutMs: number;
  logger?: Logger;
};

/** After stdin closes, a model process has this long to exit before SIGTERM; SIGKILL 10 s later. */
const STOP_GRACE_MS = 5_000;
const KILL_GRACE_MS = 10_000;

/**
 * One model process in predict mode (docs/trainer-command.md): the artifact in a private
 * temporary file, a ready line, then one request line and one answer line at a time.
 */
export class ModelProcess {
  /** Resolves once the process is gone and its artifact file deleted. */
  readonly closed: Promise<Exit>;
  #proc: TrainerProcess;
  #labels: string[] | undefined;
  #nextId = 1;
  #stopping = false;

  private constructor(proc: TrainerProcess, dir: string) {
    this.#proc = proc;
    this.closed = proc.closed.then(async (exit) => {
      await rm(dir, { recursive: true, force: true });
      return exit;
    });
  }

  /** Starts the process and waits for its ready line; a start that fails leaves nothing behind. */
  static async start(options: ModelProcessOptions): Promise<ModelProcess> {
    const dir = await mkdtemp(path.join(tmpdir(), 'predict-'));
    let model: ModelProcess | null = null;
    try {
      await chmod(dir, 0o700);
      const artifact = path.join(dir, 'artifact');
      await writeFile(artifact, options.artifact, { mode: 0o600 });
      const log = options.logger?.child({ modelVersionId: options.modelId, trainer: 'predict' });
      const proc = new TrainerProcess({
        command: options.command,
        cwd: options.cwd,
        env: trainerEnv({ TRAINER_MODE: 'predict', TRAINER_ARTIFACT: artifact }),
        onStderrLine: log ? (line) => logStderrLine(log, line) : undefined,
      });
      model = new ModelProcess(proc, dir);
      const line = await proc.nextAnswerLine(options.startTimeoutMs);
      if (line === LINE_TIMEOUT) {
        throw new Error(`did not write its ready line within ${options.startTimeoutMs} ms`);
      }
      if (line === null) throw new Error(await proc.exitReason());
      model.#labels = parseReady(line);
      return model;
    } catch (error) {
      if (model) await model.kill();
      else await rm(dir, { recursive: true, force: true });
      throw model ? model.#failure('could not start', error) : error;
    }
  }

  /** Whether the server stopped it (idle, evicted, shutdown) rather than it ending on its own. */
  get stopping(): boolean {
    return this.#stopping;
  }

  /**
   * The model's classifications of `texts`. A timeout or a broken answer kills the process; an
   * `error` answer fails this request only (PredictRequestError).
   */
  async request(texts: readonly string[], timeoutMs: number): Promise<Classification[]> {
    const id = this.#nextId++;
    if (!this.#proc.writeLine(JSON.stringify({ id, texts }))) {
      throw new Error(await this.exitReason());
    }
    try {
      const answer = await this.#proc.nextAnswerLine(timeoutMs);
      if (answer === LINE_TIMEOUT) throw new Error(`no answer within ${timeoutMs} ms`);
      if (answer === null) throw new Error(await this.exitReason());
      return parseAnswer(answer, id, texts.length, this.#labels);
    } catch (error) {
      if (!(error instanceof PredictRequestError)) await this.kill();
      throw error;
    }
  }

  /** Asks it to exit (stdin closed), then SIGTERM and SIGKILL to its group if it does not. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#proc.closeStdin();
    await Promise.race([this.closed, delay(STOP_GRACE_MS, undefined, { ref: false })]);
    await this.#proc.terminate(KILL_GRACE_MS);
    await this.closed;
  }

  /** Kills its group at once (after a timeout or a protocol break). */
  async kill(): Promise<void> {
    await this.#proc.terminate(0);
    await this.closed;
  }

  /** How it ended, with the end of its stderr. */
  exitReason(): Promise<string> {
    return this.#proc.exitReason();
  }

  #failure(what: string, error: unknown): Error {
    const message = error instanceof Error ? error.message : String(error);
    const tail = this.#proc.stderrTail();
    const withTail = tail && !message.includes(tail) ? `${message}: ${tail}` : message;
    return new Error(`${what}: ${withTail}`);
  }
}
