import { createHash } from 'node:crypto';
import { createGraphQLError } from 'graphql-yoga';
import type { Limits } from '../../config.ts';
import { ErrorCode } from '../../vocabulary/errors.ts';
import { errorDocument } from '../refusals.ts';

export type StreamLimits = Pick<
  Limits,
  'maxStreamsPerToken' | 'maxStreams' | 'maxStreamBacklogBytes'
>;

/** The protocols of event streams (text/event-stream responses). */
export type EventStreamKind = 'graphql-sse' | 'yoga-sse';
/** The protocol a stream is served by (its slot is counted under it, see `openStreams`). */
export type StreamKind = EventStreamKind | 'graphql-ws';

/** A place taken by one open stream. */
export type StreamSlot = {
  /** Gives the place back; once, however often called. */
  release(): void;
  /** Ends the stream (at shutdown); its transport then releases the slot. */
  close: () => void;
};

export type StreamRefusal = {
  refused: true;
  message: string;
  limit: 'maxStreams' | 'maxStreamsPerToken';
};

export const isRefusal = (slot: StreamSlot | StreamRefusal): slot is StreamRefusal =>
  'refused' in slot;

/** Refused streams are answered with HTTP 429 and this body (FORBIDDEN, `extensions.limit`). */
export const STREAM_REFUSAL_STATUS = 429;
/** A new object each time: a fetch Response may add its Content-Length to the one it is given. */
export const streamRefusalHeaders = (): Record<string, string> => ({
  'content-type': 'application/json; charset=utf-8',
  'retry-after': '5',
});
export const refusalDocument = (refusal: StreamRefusal) =>
  errorDocument(refusal.message, { code: ErrorCode.FORBIDDEN, limit: refusal.limit });

/** A stream refused inside a GraphQL transport (graphql-sse's single connection, graphql-ws). */
export const refusalError = (refusal: StreamRefusal) =>
  createGraphQLError(refusal.message, {
    extensions: { code: ErrorCode.FORBIDDEN, limit: refusal.limit },
  });

const keyOf = (authorization: string | null | undefined) =>
  createHash('sha256')
    .update(authorization ?? '')
    .digest('base64url');

/**
 * The open streams of one server, capped per caller (told apart by their Authorization header;
 * all anonymous callers share one place) and in all. Transport-neutral: each transport takes a
 * slot when a stream starts and releases it when the stream ends (event-stream responses and
 * graphql-sse's operations, see event-stream-limits.ts; graphql-ws subscriptions, see
 * ../ws/graphql-ws.ts), so that every kind of stream counts against the same limits.
 */
export class StreamLimiter {
  readonly #perKey = new Map<string, number>();
  readonly #open = new Set<StreamSlot>();
  readonly #perKind = new Map<StreamKind, number>();
  /** Slots taken for streams that connect later (graphql-sse's reservations), by name. */
  readonly #held = new Map<string, StreamSlot>();

  constructor(readonly limits: StreamLimits) {}

  acquire(authorization: string | null | undefined, kind: StreamKind): StreamSlot | StreamRefusal {
    if (this.#open.size >= this.limits.maxStreams) {
      return {
        refused: true,
        message: `The server has ${this.limits.maxStreams} open event streams, its limit`,
        limit: 'maxStreams',
      };
    }
    const key = keyOf(authorization);
    const mine = this.#perKey.get(key) ?? 0;
    if (mine >= this.limits.maxStreamsPerToken) {
      return {
        refused: true,
        message: `This token has ${this.limits.maxStreamsPerToken} open event streams, its limit`,
        limit: 'maxStreamsPerToken',
      };
    }
    this.#perKey.set(key, mine + 1);
    this.#perKind.set(kind, (this.#perKind.get(kind) ?? 0) + 1);
    const slot = new LimiterSlot(key, kind, this.#free);
    this.#open.add(slot);
    return slot;
  }

  /** Gives back the place of a slot, released once. */
  readonly #free = (slot: LimiterSlot): void => {
    this.#open.delete(slot);
    this.#perKind.set(slot.kind, (this.#perKind.get(slot.kind) ?? 1) - 1);
    const left = (this.#perKey.get(slot.key) ?? 1) - 1;
    if (left > 0) this.#perKey.set(slot.key, left);
    else this.#perKey.delete(slot.key);
  };

  /** Keeps `slot` under `name` until a stream takes it over (or it is dropped). */
  hold(name: string, slot: StreamSlot): void {
    this.#held.set(name, slot);
  }

  isHeld(name: string): boolean {
    return this.#held.has(name);
  }

  /** The slot held under `name`, now the caller's to release. */
  take(name: string): StreamSlot | undefined {
    const slot = this.#held.get(name);
    this.#held.delete(name);
    return slot;
  }

  /** Releases `slot` if it is still the one held under `name`. */
  drop(name: string, slot: StreamSlot): void {
    if (this.#held.get(name) !== slot) return;
    this.#held.delete(name);
    slot.release();
  }

  /** Open streams (held slots included), of one kind or all. */
  openStreams(kind?: StreamKind): number {
    return kind ? (this.#perKind.get(kind) ?? 0) : this.#open.size;
  }

  /** Streams never end on their own: at shutdown they are cut, and their clients reconnect. */
  closeAll(): void {
    for (const slot of [...this.#open]) slot.close();
  }
}

/** A slot of a StreamLimiter: an object, not closures, as every open stream keeps one. */
class LimiterSlot implements StreamSlot {
  #released = false;
  close: () => void = noClose;

  constructor(
    readonly key: string,
    readonly kind: StreamKind,
    private readonly free: (slot: LimiterSlot) => void,
  ) {}

  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.free(this);
  }
}

const noClose = () => {};

export type Counted<T> = AsyncIterableIterator<T> & {
  return(value?: unknown): Promise<IteratorResult<T>>;
  throw(error?: unknown): Promise<IteratorResult<T>>;
};

/** `source`, releasing `slot` once it ends, however it ends (graphql-sse calls `return`). */
export function releasing<T>(source: AsyncIterable<T>, slot: StreamSlot): Counted<T> {
  const iterator = source[Symbol.asyncIterator]();
  const ended = (result: IteratorResult<T>) => {
    if (result.done) slot.release();
    return result;
  };
  const failed = (error: unknown): never => {
    slot.release();
    throw error;
  };
  return {
    next: () => iterator.next().then(ended, failed),
    return: (value?: unknown) => {
      slot.release();
      return iterator.return
        ? iterator.return(value)
        : Promise.resolve({ done: true, value: undefined });
    },
    throw: (error?: unknown) => {
      slot.release();
      return iterator.throw ? iterator.throw(error) : Promise.reject(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
