import { EngineClosedError } from './engine.ts';

export type WorkerPoolOptions<W> = {
  /** The most workers alive at once. */
  size: number;
  create: () => Promise<W>;
  destroy: (worker: W) => Promise<void>;
  /** Whether a worker may take more work after a task; one that is not is destroyed and replaced. */
  usable: (worker: W) => boolean;
};

type Waiter<W> = { resolve: (worker: W) => void; reject: (error: unknown) => void };

/**
 * Long-lived workers, started lazily as work arrives (up to `size`) and kept for the next task,
 * since starting one is far dearer than a task. Waiting tasks are served first come, first served.
 */
export class WorkerPool<W> {
  readonly #options: WorkerPoolOptions<W>;
  #idle: W[] = [];
  readonly #busy = new Set<W>();
  readonly #starting = new Set<Promise<void>>();
  #queue: Waiter<W>[] = [];
  #closed = false;

  constructor(options: WorkerPoolOptions<W>) {
    this.#options = options;
  }

  /** Runs `task` on a worker, an idle one that `prefer`s being chosen first. */
  async run<T>(task: (worker: W) => Promise<T>, prefer?: (worker: W) => boolean): Promise<T> {
    const worker = await this.#acquire(prefer);
    try {
      return await task(worker);
    } finally {
      this.#busy.delete(worker);
      if (!this.#closed) this.#hand(worker);
    }
  }

  /** Rejects waiting tasks, destroys every worker (running tasks then fail) and waits for starting ones. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const waiter of this.#queue.splice(0)) waiter.reject(new EngineClosedError());
    const workers = [...this.#idle.splice(0), ...this.#busy];
    this.#busy.clear();
    await Promise.allSettled([...workers.map(this.#options.destroy), ...this.#starting]);
  }

  #acquire(prefer?: (worker: W) => boolean): Promise<W> {
    if (this.#closed) return Promise.reject(new EngineClosedError());
    for (const dead of this.#idle.filter((w) => !this.#options.usable(w))) this.#discard(dead);
    const at = prefer ? this.#idle.findIndex(prefer) : -1;
    const [worker] = this.#idle.splice(Math.max(at, 0), 1);
    if (worker !== undefined) {
      this.#busy.add(worker);
      return Promise.resolve(worker);
    }
    return new Promise<W>((resolve, reject) => {
      this.#queue.push({ resolve, reject });
      this.#grow();
    });
  }

  /** Starts workers while tasks wait that no starting worker will serve, up to the size. */
  #grow(): void {
    const alive = () => this.#idle.length + this.#busy.size + this.#starting.size;
    while (this.#queue.length > this.#starting.size && alive() < this.#options.size) {
      const starting: Promise<void> = this.#options.create().then(
        (worker) => {
          this.#starting.delete(starting);
          if (this.#closed) return this.#options.destroy(worker);
          this.#hand(worker);
        },
        (error: unknown) => {
          this.#starting.delete(starting);
          this.#queue.shift()?.reject(error);
        },
      );
      this.#starting.add(starting);
    }
  }

  /** Gives a free worker to the longest-waiting task, or parks it. */
  #hand(worker: W): void {
    if (!this.#options.usable(worker)) {
      this.#discard(worker);
      this.#grow();
      return;
    }
    const waiter = this.#queue.shift();
    if (!waiter) {
      this.#idle.push(worker);
      return;
    }
    this.#busy.add(worker);
    waiter.resolve(worker);
  }

  #discard(worker: W): void {
    this.#idle = this.#idle.filter((w) => w !== worker);
    void this.#options.destroy(worker).catch(() => {});
  }
}
