import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ExecutionResult } from 'graphql';
import type { PushSink, PushSource } from '../events/push-source.ts';
import type { Logger } from '../logger.ts';
import { type Beat, Heartbeat, PING } from './heartbeat.ts';
import { dropListenersSinceMark, isMarked } from './listener-marks.ts';
import { sseNextMessage } from './sse-messages.ts';

type Result = ExecutionResult | Promise<ExecutionResult>;

/**
 * The versions whose stream handling the hand-over below relies on (how they write an update, a
 * completion, and what they hang on the request and response). package.json pins them; a test
 * compares the installed ones, so an upgrade means re-checking the fast path against it first.
 */
export const HAND_OVER_VERIFIED_WITH = {
  'graphql-yoga': '5.24.1',
  '@whatwg-node/server': '0.11.0',
  'graphql-sse': '2.6.1',
  '@graphql-yoga/plugin-graphql-sse': '3.24.1',
} as const;

/** Executes the operation of a stream on each update; released when the stream ends. */
export type StreamExecutor<T> = { execute(value: T): Result; release(): void };

type MaskError = (error: unknown, message: string, isDev?: boolean) => Error;

const COMPLETE = Buffer.from('event: complete\ndata:\n\n');
const CRLF = Buffer.from('\r\n');

const chunks = new WeakMap<Uint8Array, Buffer>();

/** `message` as one chunk of a chunked HTTP/1.1 body, framed once per message. */
function chunkOf(message: Uint8Array): Buffer {
  let chunk = chunks.get(message);
  if (!chunk) {
    chunk = Buffer.concat([Buffer.from(`${message.length.toString(16)}\r\n`), message, CRLF]);
    chunks.set(message, chunk);
  }
  return chunk;
}

const COMPLETION_START = 'event: complete';
/** yoga's second chunk of it (no other message of a single-operation stream is this short). */
const COMPLETION_DATA = 'data:\n\n';

/**
 * The library's completion of a handed-over stream, which the client must not see: graphql-sse
 * writes it as one chunk, yoga's SSE as two.
 */
function isCompletion(chunk: unknown): boolean {
  const start =
    typeof chunk === 'string'
      ? chunk.slice(0, COMPLETION_START.length)
      : chunk instanceof Uint8Array
        ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString(
            'latin1',
            0,
            COMPLETION_START.length,
          )
        : null;
  return start === COMPLETION_START || start === COMPLETION_DATA;
}

/**
 * The fast path of subscription streams that carry one operation each (graphql-sse's
 * distinct-connections mode, yoga's SSE) when served by node:http. yoga and graphql-sse set a
 * stream up and send its first update; then the stream is handed over here, and the operation's
 * updates are written straight to the response's socket: each as one buffer (message and HTTP
 * chunk framing) shared by every subscriber of the same operation (serialized and encoded once,
 * see sse-messages.ts), with no per-subscriber iterators, web streams, serialization or
 * OutgoingMessage bookkeeping. Keep-alive pings are batched on one timer; a client whose
 * backlog passes `maxBacklogBytes` is cut, as stream-limits.ts does on the library's path.
 */
export class SseFanout {
  readonly #heartbeat: Heartbeat;

  constructor(
    readonly options: {
      /** The longest silence of a stream (the heartbeat's interval). */
      keepAliveMs: number;
      maxBacklogBytes: number;
      maskError: MaskError;
      logger: Logger;
    },
  ) {
    this.#heartbeat = new Heartbeat(options.keepAliveMs);
  }

  /**
   * The Node response that a subscription can be handed over to: the request asked for an event
   * stream of its own (graphql-sse's single-connection mode posts operations as JSON and stays
   * with the library) and came through node:http (not `yoga.fetch`) and its event-stream
   * tracking (stream-limits.ts), which marks what the app adds to the request and response.
   */
  responseFor(request: Request, res: ServerResponse | undefined): ServerResponse | null {
    if (!res || !isMarked(res) || !request.headers.get('accept')?.includes('text/event-stream')) {
      return null;
    }
    return res;
  }

  /**
   * Takes `res` over from the library once it has written what it had (the first update) and
   * ends its stream: its completion and end are swallowed, its listeners on the request and
   * response dropped (so that nothing of its stream stays reachable), and `source` pushes from
   * then on, executing with an executor from `executorOf`. False if the client is gone already.
   */
  adopt<T>(
    res: ServerResponse,
    source: PushSource<T>,
    executorOf: () => StreamExecutor<T>,
  ): boolean {
    if (res.destroyed || res.writableEnded) return false;
    const { write, end } = res;
    res.write = ((chunk: unknown, ...rest: unknown[]) =>
      isCompletion(chunk)
        ? true
        : (write as (...args: unknown[]) => boolean).call(res, chunk, ...rest)) as typeof write;
    res.end = (() => {
      res.write = write;
      res.end = end;
      dropListenersSinceMark(res);
      dropListenersSinceMark(res.req);
      this.#attach(res, source, executorOf);
      return res;
    }) as typeof end;
    return true;
  }

  #attach<T>(
    res: ServerResponse,
    source: PushSource<T>,
    executorOf: () => StreamExecutor<T>,
  ): void {
    const socket = res.socket;
    if (res.destroyed || !socket) {
      void source.return?.();
      return;
    }
    const executor = executorOf() as StreamExecutor<unknown>;
    const subscriber = new SseSubscriber(res, socket, executor, this);
    this.#heartbeat.add(subscriber);
    res.once('close', () => {
      this.release(subscriber);
      void source.return?.();
    });
    source.pushTo(subscriber as PushSink<T>);
  }

  /** Once per stream, when it completed or its client left. */
  release(subscriber: SseSubscriber): void {
    if (!this.#heartbeat.has(subscriber)) return;
    this.#heartbeat.remove(subscriber);
    subscriber.executor.release();
  }

  /** The message of a result, shared by every subscriber that got the same result object. */
  message(result: ExecutionResult): Buffer {
    return sseNextMessage(result, this.options.maskError);
  }

  /** Streams on the fast path now (tests check that closed ones are let go). */
  get size(): number {
    return this.#heartbeat.size;
  }
}

/** One handed-over stream: the sink its source pushes to, and a beat of the shared heartbeat. */
class SseSubscriber implements PushSink<unknown>, Beat {
  lastWrite = Date.now();
  readonly atBoundary = true;
  /** Whether the body is chunked (HTTP/1.1) or raw (HTTP/1.0). */
  readonly #chunked: boolean;

  constructor(
    private readonly res: ServerResponse,
    private readonly socket: Socket,
    readonly executor: StreamExecutor<unknown>,
    private readonly fanout: SseFanout,
  ) {
    this.#chunked = res.chunkedEncoding;
  }

  next(value: unknown): Promise<void> | undefined {
    const result = this.executor.execute(value);
    if (!(result instanceof Promise)) {
      this.#write(this.fanout.message(result));
      return undefined;
    }
    return result.then(
      (settled) => this.#write(this.fanout.message(settled)),
      () => {
        this.res.destroy();
      },
    );
  }

  end(): void {
    this.fanout.release(this);
    if (this.res.destroyed) return;
    this.#write(COMPLETE);
    this.res.end();
  }

  ping(): void {
    this.#write(PING);
  }

  #write(message: Uint8Array): void {
    if (this.socket.destroyed) return;
    this.socket.write(this.#chunked ? chunkOf(message) : message);
    this.lastWrite = Date.now();
    const backlog = this.socket.writableLength;
    if (backlog > this.fanout.options.maxBacklogBytes) {
      this.fanout.options.logger.warn(
        { backlog },
        'closing an event stream whose client stopped reading',
      );
      this.res.destroy();
    }
  }
}
