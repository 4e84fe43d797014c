import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as delay } from 'node:timers/promises';

export type Exit = { code: number | null; signal: NodeJS.Signals | null; error?: Error };

export type TrainerProcessOptions = {
  command: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Each line the trainer writes to stderr (for the server log). */
  onStderrLine?: (line: string) => void;
};

const MAX_LINE_CHARS = 1024 * 1024;
const STDERR_TAIL_BYTES = 4096;
const MAX_LOGGED_CHARS = 2000;
/** Lines read ahead of the consumer; beyond it stdout is paused and the pipe makes the trainer wait. */
const QUEUE_HIGH = 64;

/** What nextAnswerLine gives when no line came in time. */
export const LINE_TIMEOUT = Symbol('line timeout');

// Trainers run in their own process group (so a terminal's Ctrl-C reaches the server, which then
// pauses them with a checkpoint); this kills what is left of them if the server exits anyway.
const liveGroups = new Set<number>();
let exitHookInstalled = false;
const killGroup = (pid: number, signal: NodeJS.Signals) => {
  // kill(-0) would mean the server's own group.
  if (pid <= 0) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the whole group is gone already
  }
};

/**
 * A trainer command run through `/bin/sh -c` in a new process group: its stdout as lines (read
 * no faster than they are consumed), the tail of its stderr, signals to the whole group.
 */
export class TrainerProcess {
  readonly pid: number;
  /** Resolves once the process exited and its stdout and stderr are closed. */
  readonly closed: Promise<Exit>;
  #child: ChildProcessByStdio<Writable, Readable, Readable>;
  #exit: Exit | null = null;
  #lines: string[] = [];
  #linesRead = 0;
  #partial = '';
  #overflow: Error | null = null;
  #discard = false;
  #waiting: (() => void) | null = null;
  #stderr: Buffer[] = [];
  #stderrBytes = 0;
  #terminating: Promise<Exit> | null = null;

  constructor({ command, env, cwd, onStderrLine }: TrainerProcessOptions) {
    // Ignored in the shell, USR1/USR2 stay ignored in everything it starts until a process
    // installs a handler: the trainer answers them, a shell or data-loader child is not killed.
    this.#child = spawn('/bin/sh', ['-c', `trap '' USR1 USR2\n${command}`], {
      cwd,
      env,
      detached: true,
      // stdin stays open and unused: its EOF tells a trainer that the server is gone.
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.pid = this.#child.pid ?? 0;
    // A process that exits before reading what was written to it must not crash the server (EPIPE).
    this.#child.stdin.on('error', () => {});
    if (this.pid) {
      liveGroups.add(this.pid);
      if (!exitHookInstalled) {
        exitHookInstalled = true;
        process.on('exit', () => {
          for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
        });
      }
    }
    this.#readStdout();
    this.#readStderr(onStderrLine);
    this.closed = new Promise((resolve) => {
      const settle = (exit: Exit) => {
        if (this.#exit) return;
        this.#exit = exit;
        liveGroups.delete(this.pid);
        this.#wake();
        resolve(exit);
      };
      this.#child.on('error', (error) => settle({ code: null, signal: null, error }));
      // Whatever the trainer left running would hold the pipes open: it goes with the trainer.
      this.#child.on('exit', () => killGroup(this.pid, 'SIGKILL'));
      this.#child.on('close', (code, signal) => settle({ code, signal }));
    });
  }

  get isClosed(): boolean {
    return this.#exit !== null;
  }

  /** The next stdout line, or null once the process closed and every line was read. */
  async nextLine(): Promise<string | null> {
    for (;;) {
      const line = this.#lines.shift();
      if (line !== undefined) {
        if (this.#lines.length < QUEUE_HIGH / 2) this.#child.stdout.resume();
        return line;
      }
      if (this.#overflow) throw this.#overflow;
      if (this.#exit) return null;
      await new Promise<void>((resolve) => {
        this.#waiting = resolve;
      });
    }
  }

  /**
   * The next stdout line that is not blank (a protocol answer), null once the process closed and
   * every line was read, or LINE_TIMEOUT if none came within `timeoutMs`.
   */
  async nextAnswerLine(timeoutMs: number): Promise<string | null | typeof LINE_TIMEOUT> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<typeof LINE_TIMEOUT>((resolve) => {
      // The process's pipes keep the server alive while it runs; the wait alone does not.
      timer = setTimeout(resolve, timeoutMs, LINE_TIMEOUT).unref();
    });
    try {
      for (;;) {
        const line = await Promise.race([this.nextLine(), timeout]);
        if (typeof line !== 'string' || line.trim() !== '') return line;
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * How the process ended ("exited with code 1", "was killed by SIGKILL", "could not be started:
   * …"), then `detail`, then the end of its stderr; waits until it closed.
   */
  async exitReason(detail?: string): Promise<string> {
    const exit = await this.closed;
    const how = exit.error
      ? `could not be started: ${exit.error.message}`
      : exit.code === null
        ? `was killed by ${exit.signal}`
        : `exited with code ${exit.code}`;
    const tail = this.stderrTail();
    const withDetail = detail ? `${how} ${detail}` : how;
    return tail ? `${withDetail}: ${tail}` : withDetail;
  }

  /** The last few KB the trainer wrote to stderr. */
  stderrTail(): string {
    return (
      Buffer.concat(this.#stderr)
        .toString('utf8')
        // The cut may have split a character.
        .replace(/^\uFFFD+/, '')
        .trim()
    );
  }

  signal(signal: NodeJS.Signals): void {
    if (!this.#exit && this.pid) killGroup(this.pid, signal);
  }

  /** Throws away what the trainer writes from now on, so that it never waits on a full pipe. */
  discardOutput(): void {
    this.#discard = true;
    this.#lines = [];
    this.#child.stdout.resume();
  }

  /** Writes one line to the process's stdin; false when it is closed (the line is dropped). */
  writeLine(line: string): boolean {
    const stdin = this.#child.stdin;
    if (this.#exit || stdin.destroyed || stdin.writableEnded) return false;
    stdin.write(`${line}\n`);
    return true;
  }

  /** Ends stdin: a trainer or model process takes the end-of-file as the request to exit. */
  closeStdin(): void {
    if (!this.#child.stdin.writableEnded) this.#child.stdin.end();
  }

  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves once it is gone. */
  terminate(graceMs: number): Promise<Exit> {
    this.#terminating ??= (async () => {
      this.discardOutput();
      this.signal('SIGTERM');
      await Promise.race([this.closed, delay(graceMs, undefined, { ref: false })]);
      this.signal('SIGKILL');
      return this.closed;
    })();
    return this.#terminating;
  }

  #wake(): void {
    const resolve = this.#waiting;
    this.#waiting = null;
    resolve?.();
  }

  #readStdout(): void {
    const decoder = new StringDecoder('utf8');
    const stdout = this.#child.stdout;
    stdout.on('data', (chunk: Buffer) => {
      if (this.#discard || this.#overflow) return;
      const parts = (this.#partial + decoder.write(chunk)).split('\n');
      this.#partial = parts.pop() ?? '';
      for (const part of parts) this.#lines.push(part.endsWith('\r') ? part.slice(0, -1) : part);
      this.#linesRead += parts.length;
      if (this.#partial.length > MAX_LINE_CHARS) {
        this.#overflow = new Error(
          `trainer command wrote a line longer than ${MAX_LINE_CHARS} characters (line ${this.#linesRead + 1})`,
        );
      }
      if (this.#lines.length >= QUEUE_HIGH) stdout.pause();
      this.#wake();
    });
    stdout.on('end', () => {
      const rest = this.#partial + decoder.end();
      this.#partial = '';
      if (rest !== '' && !this.#discard) this.#lines.push(rest);
      this.#wake();
    });
  }

  #readStderr(onLine?: (line: string) => void): void {
    const decoder = new StringDecoder('utf8');
    let partial = '';
    const emit = (line: string) => {
      if (line.trim() !== '') onLine?.(line.slice(0, MAX_LOGGED_CHARS));
    };
    this.#child.stderr.on('data', (chunk: Buffer) => {
      this.#stderr.push(chunk);
      this.#stderrBytes += chunk.length;
      while (this.#stderrBytes > STDERR_TAIL_BYTES && this.#stderr.length > 0) {
        const first = this.#stderr[0] as Buffer;
        const excess = this.#stderrBytes - STDERR_TAIL_BYTES;
        if (first.length <= excess) {
          this.#stderr.shift();
          this.#stderrBytes -= first.length;
        } else {
          this.#stderr[0] = first.subarray(excess);
          this.#stderrBytes -= excess;
        }
      }
      if (!onLine) return;
      // Progress bars redraw with \r: each redraw is a line of its own.
      const parts = (partial + decoder.write(chunk)).split(/\r\n|\r|\n/);
      partial = (parts.pop() ?? '').slice(-MAX_LOGGED_CHARS);
      for (const part of parts) emit(part);
    });
    this.#child.stderr.on('end', () => emit(partial + decoder.end()));
  }
}
