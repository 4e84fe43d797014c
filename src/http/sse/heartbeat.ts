export const PING = new TextEncoder().encode(':\n\n');
const LF = 10;

/** One kept-alive stream. */
export type Beat = {
  lastWrite: number;
  /** The last chunk ended an SSE message: a comment may go in here without splitting one. */
  atBoundary: boolean;
  /** Writes PING; throws if the stream is gone. */
  ping(): void;
};

/**
 * Keeps event streams from going silent for longer than `intervalMs`, so that idle proxies do
 * not cut them: a stream that wrote nothing for half the interval gets an SSE comment. One
 * timer serves every stream, and runs only while there are streams.
 */
export class Heartbeat {
  readonly #beats = new Set<Beat>();
  #timer: NodeJS.Timeout | null = null;

  constructor(private readonly intervalMs: number) {}

  /** `body` with pings in its pauses; cancelling the result cancels `body`. */
  wrap(
    body: ReadableStream<Uint8Array>,
    Stream: typeof ReadableStream<Uint8Array>,
  ): ReadableStream<Uint8Array> {
    const reader = body.getReader();
    let beat: Beat | undefined;
    const forget = () => {
      if (beat) this.remove(beat);
    };
    return new Stream({
      start: (controller) => {
        beat = {
          lastWrite: Date.now(),
          atBoundary: true,
          ping: () => controller.enqueue(PING),
        };
        this.add(beat);
      },
      pull: async (controller) => {
        try {
          const { done, value } = await reader.read();
          if (done) {
            forget();
            controller.close();
            return;
          }
          controller.enqueue(value);
          if (beat) {
            beat.lastWrite = Date.now();
            beat.atBoundary = value.at(-1) === LF && value.at(-2) === LF;
          }
        } catch (error) {
          forget();
          controller.error(error);
        }
      },
      cancel: (reason) => {
        forget();
        return reader.cancel(reason);
      },
    });
  }

  add(beat: Beat): void {
    this.#beats.add(beat);
    if (this.#timer) return;
    this.#timer = setInterval(() => this.#tick(), this.intervalMs / 2);
    this.#timer.unref();
  }

  remove(beat: Beat): void {
    this.#beats.delete(beat);
    if (this.#beats.size === 0 && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }

  has(beat: Beat): boolean {
    return this.#beats.has(beat);
  }

  #tick(): void {
    const now = Date.now();
    for (const beat of this.#beats) {
      if (!beat.atBoundary || now - beat.lastWrite < this.intervalMs / 2) continue;
      try {
        beat.ping();
        beat.lastWrite = now;
      } catch {
        // Closed or errored under us: nothing more to keep alive.
        this.remove(beat);
      }
    }
  }

  /** Streams being kept alive (tests check that ended streams are let go). */
  get size(): number {
    return this.#beats.size;
  }
}
