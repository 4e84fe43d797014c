import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ExecutionResult } from 'graphql';
import type { Logger } from 'pino';
import type { PushSink, PushSource } from '../../events/push-source.ts';
import { streamKindOf } from '../endpoints.ts';
import { type RequestRecord, requestRecordOf } from '../request-log.ts';
import { takeOverResponse } from './hand-over.ts';
import { type Beat, Heartbeat, PING } from './heartbeat.ts';
import { type MaskError, sseNextMessage } from './messages.ts';
import { httpChunk, type OperationOutput } from './shared-update.ts';
import type { EventStreamKind } from './stream-limits.ts';

/** Executes the operation of a stream on each update; released when the stream ends. */
export type StreamExecutor<T> = { execute(value: T): OperationOutput; release(): void };

const COMPLETE = Buffer.from('event: complete\ndata:\n\n');
const COMPLETE_CHUNK = httpChunk(COMPLETE);
const PING_CHUNK = httpChunk(PING);

/**
 * The fast path of subscription streams that carry one operation each (graphql-sse's
 * distinct-connections mode, yoga's SSE) when served by node:http. yoga and graphql-sse set a
 * stream up and send its first update; then the stream is handed over here (hand-over.ts), and
 * the operation's updates are written straight to the response's socket: each as one buffer
 * (message and HTTP chunk framing) shared by every subscriber of the same operation (made once
 * per update, see shared-update.ts), with no per-subscriber iterators, web streams,
 * serialization or OutgoingMessage bookkeeping. Keep-alive pings are batched on one timer; a
 * client whose backlog passes `maxBacklogBytes` is cut, as stream-limits.ts does on the
 * library's path.
 */
export class SseFanout {
  readonly #heartbeat: Heartbeat;
  readonly #openByKind: Record<EventStreamKind, number> = { 'graphql-sse': 0, 'yoga-sse': 0 };
  /** Plain counts read at scrape time (plugins/metrics.ts), so that the writes stay cheap. */
  readonly counts = { adopted: 0, updates: 0, ended: 0 };
  /** The SSE message of a result, as yoga would write it. */
  readonly encode: (result: ExecutionResult) => Buffer;

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
    this.encode = (result) => sseNextMessage(result, options.maskError);
  }

  /**
   * Takes `res` over once the library ended its stream, and `source` pushes to it from then on,
   * executing with an executor from `executorOf`. False if the client is gone already.
   */
  adopt<T>(
    res: ServerResponse,
    source: PushSource<T>,
    executorOf: () => StreamExecutor<T>,
  ): boolean {
    return takeOverResponse(res, () => this.#attach(res, source, executorOf));
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
    // Node 24 holds a response's writes of one tick and sends them on the next: what the libraries
    // or the fast set-up wrote (the headers, the first update) goes to the socket now, before
    // the first write of ours could overtake it.
    while (res.writableCorked > 0) res.uncork();
    flattenHeader(res);
    const executor = executorOf() as StreamExecutor<unknown>;
    const kind = streamKindOf(res.req.url);
    const subscriber = new SseSubscriber(
      res,
      socket,
      executor,
      this,
      kind,
      requestRecordOf(res.req),
    );
    this.#heartbeat.add(subscriber);
    this.#openByKind[kind] += 1;
    this.counts.adopted += 1;
    res.on('close', () => {
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
    this.#openByKind[subscriber.kind] -= 1;
    this.counts.ended += 1;
  }

  /** Streams on the fast path now (tests check that closed ones are let go). */
  get size(): number {
    return this.#heartbeat.size;
  }

  /** Streams on the fast path now that began as `kind`. */
  openStreams(kind: EventStreamKind): number {
    return this.#openByKind[kind];
  }
}

/**
 * node keeps the response's header block (`_header`) as long as the response is open, as the
 * string it concatenated it to: a tree of some 30 pieces (~1 KB per stream). Converting it to a
 * number makes V8 flatten it in place (the text is the same), leaving one piece.
 */
function flattenHeader(res: ServerResponse): void {
  const { _header: header } = res as ServerResponse & { _header?: unknown };
  if (typeof header === 'string') Number(header);
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
    readonly kind: EventStreamKind,
    private readonly record: RequestRecord | undefined,
  ) {
    this.#chunked = res.chunkedEncoding;
  }

  next(value: unknown): Promise<void> | undefined {
    const output = this.executor.execute(value);
    const { result } = output;
    if (!(result instanceof Promise)) {
      this.#writeOutput(output, result);
      return undefined;
    }
    return result.then(
      (settled) => this.#writeOutput(output, settled),
      () => {
        this.res.destroy();
      },
    );
  }

  end(): void {
    this.fanout.release(this);
    if (this.res.destroyed) return;
    this.#write(this.#chunked ? COMPLETE_CHUNK : COMPLETE);
    this.res.end();
  }

  ping(): void {
    this.#write(this.#chunked ? PING_CHUNK : PING);
  }

  #writeOutput(output: OperationOutput, settled: ExecutionResult): void {
    const { encode } = this.fanout;
    this.#write(this.#chunked ? output.chunk(settled, encode) : output.message(settled, encode));
    this.fanout.counts.updates += 1;
    if (this.record) this.record.events = (this.record.events ?? 0) + 1;
  }

  #write(bytes: Uint8Array): void {
    if (this.socket.destroyed) return;
    this.socket.write(bytes);
    this.lastWrite = Date.now();
    const backlog = this.socket.writableLength;
    if (backlog > this.fanout.options.maxBacklogBytes) {
      (this.record?.log ?? this.fanout.options.logger).warn(
        { backlog },
        'closing an event stream whose client stopped reading',
      );
      this.res.destroy();
    }
  }
}
