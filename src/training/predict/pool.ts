import type { Logger } from '../../logger.ts';
import type { Classification } from '../trainers/builtin/index.ts';
import { PredictRequestError } from './answer.ts';
import { ModelProcess } from './model-process.ts';

export type PredictPoolOptions = {
  /** PREDICT_COMMAND, or TRAINER_COMMAND: run with TRAINER_MODE=predict. */
  command: string;
  cwd?: string;
  /** Model processes alive at once (PREDICT_MAX_PROCESSES). */
  maxProcesses: number;
  /** A process unused this long is stopped (PREDICT_IDLE_MS). */
  idleMs: number;
  /** One request's answer time; the process is killed after it (PREDICT_TIMEOUT_MS). */
  timeoutMs: number;
  /** The time to the ready line (PREDICT_START_TIMEOUT_MS). */
  startTimeoutMs: number;
  logger?: Logger;
};

/** A model to serve: its id (a version's, or a challenger's job's) and its artifact's bytes. */
export type ServedModel = { id: string; artifact: Uint8Array };

/** The protocol's bounds of one request line. */
export const MAX_TEXTS_PER_REQUEST = 64;
export const MAX_REQUEST_BYTES = 1024 * 1024;
/** `{"id":<at most 16 digits>,"texts":[…]}` around the texts. */
const REQUEST_OVERHEAD_BYTES = 40;

const BACKOFF_FIRST_MS = 1_000;
const BACKOFF_MAX_MS = 60_000;

/** One model's process and the requests waiting for it, in order. */
type Entry = {
  model: ServedModel;
  process: ModelProcess | null;
  /** A process is being started for it (it holds a slot). */
  starting: boolean;
  /** Requests queued or in flight. */
  pending: number;
  tail: Promise<unknown>;
  lastUsed: number;
  idleTimer: NodeJS.Timeout | null;
  /** Consecutive failures since the last answered request, and when the next start may be. */
  failures: number;
  retryAt: number;
  lastError: Error | null;
};

/** What is remembered of a model with failures once its entry (and artifact) is let go. */
type Backoff = Pick<Entry, 'failures' | 'retryAt' | 'lastError'>;

/**
 * Model processes for versions that are not the built-in trainer's (docs/trainer-command.md,
 * "predict"): one per model, started on first use and kept warm, at most `maxProcesses` alive
 * (the least recently used idle one makes room), stopped when idle, restarted after a failure
 * with exponential backoff.
 */
export class PredictPool {
  readonly #options: PredictPoolOptions;
  readonly #entries = new Map<string, Entry>();
  /** Backoff of models without an entry: kept until their last wait is long over. */
  readonly #backoffs = new Map<string, Backoff>();
  /** Requests waiting for a slot, woken when a process ends or goes idle. */
  #slotWaiters: (() => void)[] = [];
  /** Counts uses, for the LRU order (two uses may fall into one millisecond). */
  #uses = 0;
  #closed = false;

  constructor(options: PredictPoolOptions) {
    this.#options = options;
  }

  /** Live processes (starting or serving). */
  get size(): number {
    let live = 0;
    for (const entry of this.#entries.values()) if (entry.process || entry.starting) live++;
    return live;
  }

  /** The ids of the models the pool holds (with their artifacts): live, or with requests. */
  heldModels(): string[] {
    return [...this.#entries.keys()];
  }

  /** The ids of the models with a live process, least recently used first. */
  liveModels(): string[] {
    return [...this.#entries.values()]
      .filter((e) => e.process || e.starting)
      .sort((a, b) => a.lastUsed - b.lastUsed)
      .map((e) => e.model.id);
  }

  /**
   * The model's classification of each text, in order: split into requests of at most 64 texts
   * and 1 MiB, sent one after the other through the model's process.
   */
  async predict(model: ServedModel, texts: readonly string[]): Promise<Classification[]> {
    const results: Classification[] = [];
    for (const batch of batches(texts)) results.push(...(await this.#request(model, batch)));
    return results;
  }

  /** The process of model `from` serves as `to` from now on (a challenger became a version). */
  rename(from: string, to: string): void {
    const entry = this.#entries.get(from);
    if (!entry || this.#entries.has(to)) return;
    this.#entries.delete(from);
    entry.model = { ...entry.model, id: to };
    this.#entries.set(to, entry);
  }

  /** Stops every process; requests fail from now on. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const wake of this.#slotWaiters.splice(0)) wake();
    await Promise.all([...this.#entries.values()].map((entry) => this.#stop(entry)));
  }

  #request(model: ServedModel, texts: readonly string[]): Promise<Classification[]> {
    const entry = this.#entry(model);
    entry.pending++;
    entry.lastUsed = ++this.#uses;
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    entry.idleTimer = null;
    const result = entry.tail.then(() => this.#serve(entry, texts));
    entry.tail = result.catch(() => {});
    return result.finally(() => {
      entry.pending--;
      entry.lastUsed = ++this.#uses;
      if (entry.pending === 0) {
        this.#wakeSlotWaiters();
        if (entry.process) this.#armIdleTimer(entry);
        else if (!entry.starting) this.#forget(entry);
      }
    });
  }

  async #serve(entry: Entry, texts: readonly string[]): Promise<Classification[]> {
    if (this.#closed) throw new Error('the predict pool is shut down');
    const process = entry.process ?? (await this.#start(entry));
    try {
      const predictions = await process.request(texts, this.#options.timeoutMs);
      entry.failures = 0;
      entry.lastError = null;
      return predictions;
    } catch (error) {
      if (error instanceof PredictRequestError) {
        throw new Error(
          `the model process of ${entry.model.id} could not answer: ${error.message}`,
        );
      }
      // The process is gone (killed, or exited): the next request starts another.
      if (entry.process === process) entry.process = null;
      throw this.#failed(entry, error);
    }
  }

  async #start(entry: Entry): Promise<ModelProcess> {
    if (entry.lastError && Date.now() < entry.retryAt) throw entry.lastError;
    await this.#takeSlot(entry);
    try {
      const process = await ModelProcess.start({
        command: this.#options.command,
        cwd: this.#options.cwd ?? globalThis.process.cwd(),
        modelId: entry.model.id,
        artifact: entry.model.artifact,
        startTimeoutMs: this.#options.startTimeoutMs,
        logger: this.#options.logger,
      });
      entry.process = process;
      void process.closed.then(() => this.#ended(entry, process));
      return process;
    } catch (error) {
      throw this.#failed(entry, error);
    } finally {
      entry.starting = false;
    }
  }

  /** A process ended: a crash between requests counts as a failure, a stop does not. */
  async #ended(entry: Entry, process: ModelProcess): Promise<void> {
    if (entry.process !== process) return;
    entry.process = null;
    // A request in flight reports its own failure.
    if (!process.stopping && entry.pending === 0) {
      this.#failed(entry, new Error(await process.exitReason()));
      if (entry.pending === 0 && !entry.process && !entry.starting) this.#forget(entry);
    }
    this.#wakeSlotWaiters();
  }

  #failed(entry: Entry, error: unknown): Error {
    const message = error instanceof Error ? error.message : String(error);
    const failure = new Error(`the model process of ${entry.model.id}: ${message}`);
    entry.failures++;
    entry.retryAt =
      Date.now() + Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** (entry.failures - 1));
    entry.lastError = failure;
    this.#options.logger?.warn(
      {
        modelVersionId: entry.model.id,
        failures: entry.failures,
        retryInMs: entry.retryAt - Date.now(),
      },
      failure.message,
    );
    return failure;
  }

  /** Waits until this entry may start a process: a free slot, or the LRU idle one stopped. */
  async #takeSlot(entry: Entry): Promise<void> {
    const deadline = Date.now() + this.#options.timeoutMs;
    for (;;) {
      if (this.#closed) throw new Error('the predict pool is shut down');
      if (this.size < this.#options.maxProcesses) {
        entry.starting = true;
        return;
      }
      const idle = [...this.#entries.values()]
        .filter((e) => e !== entry && e.process && e.pending === 0)
        .sort((a, b) => a.lastUsed - b.lastUsed)[0];
      if (idle) {
        entry.starting = true;
        await this.#stop(idle);
        return;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `all ${this.#options.maxProcesses} model processes stayed busy for ${this.#options.timeoutMs} ms`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#slotWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  #wakeSlotWaiters(): void {
    for (const wake of this.#slotWaiters.splice(0)) wake();
  }

  #armIdleTimer(entry: Entry): void {
    entry.idleTimer = setTimeout(() => {
      entry.idleTimer = null;
      if (entry.pending === 0) void this.#stop(entry);
    }, this.#options.idleMs);
    entry.idleTimer.unref();
  }

  async #stop(entry: Entry): Promise<void> {
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    entry.idleTimer = null;
    const process = entry.process;
    if (!process) return;
    entry.process = null;
    this.#forget(entry);
    await process.stop();
  }

  /** Lets go of an entry and its artifact, remembering its backoff if it has failures. */
  #forget(entry: Entry): void {
    const id = entry.model.id;
    if (this.#entries.get(id) === entry) this.#entries.delete(id);
    const now = Date.now();
    for (const [known, backoff] of this.#backoffs) {
      if (backoff.retryAt + BACKOFF_MAX_MS < now) this.#backoffs.delete(known);
    }
    if (entry.failures > 0) {
      const { failures, retryAt, lastError } = entry;
      this.#backoffs.set(id, { failures, retryAt, lastError });
    }
  }

  #entry(model: ServedModel): Entry {
    let entry = this.#entries.get(model.id);
    if (!entry) {
      entry = {
        model,
        process: null,
        starting: false,
        pending: 0,
        tail: Promise.resolve(),
        lastUsed: ++this.#uses,
        idleTimer: null,
        failures: 0,
        retryAt: 0,
        lastError: null,
        ...this.#backoffs.get(model.id),
      };
      this.#backoffs.delete(model.id);
      this.#entries.set(model.id, entry);
    }
    return entry;
  }
}

/** Texts in requests of at most 64 texts and 1 MiB each; a text too large for any is refused. */
export function batches(texts: readonly string[]): string[][] {
  const result: string[][] = [];
  let batch: string[] = [];
  let bytes = REQUEST_OVERHEAD_BYTES;
  for (const text of texts) {
    const size = Buffer.byteLength(JSON.stringify(text)) + 1;
    if (REQUEST_OVERHEAD_BYTES + size > MAX_REQUEST_BYTES) {
      throw new Error(
        `a text of ${size} bytes does not fit into a predict request (at most 1 MiB)`,
      );
    }
    if (batch.length === MAX_TEXTS_PER_REQUEST || bytes + size > MAX_REQUEST_BYTES) {
      result.push(batch);
      batch = [];
      bytes = REQUEST_OVERHEAD_BYTES;
    }
    batch.push(text);
    bytes += size;
  }
  if (batch.length > 0) result.push(batch);
  return result;
}
