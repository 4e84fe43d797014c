import type { ServerResponse } from 'node:http';
import type { ExecutionResult } from 'graphql';
import { print } from 'graphql-sse';
import type { PushSource } from '../../events/push-source.ts';
import { dropListenersSinceMark, isMarked } from './listener-marks.ts';

/**
 * Everything of the fast path that relies on how the libraries serve a stream, in one place:
 * how they write an update and a completion, what they hang on the request and response, and
 * that yoga asks for the next result only after it wrote the first. package.json pins these
 * versions; test/http/hand-over.test.ts compares the installed ones, so an upgrade means
 * re-checking this file against it first.
 */
export const HAND_OVER_VERIFIED_WITH = {
  'graphql-yoga': '5.24.1',
  '@whatwg-node/server': '0.11.0',
  'graphql-sse': '2.6.1',
  '@graphql-yoga/plugin-graphql-sse': '3.24.1',
} as const;

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
 * The Node response that a subscription can be handed over to: the request asked for an event
 * stream of its own (graphql-sse's single-connection mode posts operations as JSON and stays
 * with the library) and came through node:http (not `yoga.fetch`) and its event-stream
 * tracking (http/listener.ts), which marks what the app adds to the request and response, or
 * the fast set-up, which adds nothing it leaves there.
 */
export function ownStreamResponse(
  request: Request,
  res: ServerResponse | undefined,
): ServerResponse | null {
  if (
    !res ||
    !(isMarked(res) || openedHere.has(res)) ||
    !request.headers.get('accept')?.includes('text/event-stream')
  ) {
    return null;
  }
  return res;
}

/**
 * Takes `res` over from the library once it has written what it had (the first update) and
 * ends its stream: its completion and end are swallowed, its listeners on the request and
 * response and the wrappers of `write` dropped (so that nothing of its stream stays reachable),
 * and then `attach` runs.
 * False if the client is gone already.
 */
export function takeOverResponse(res: ServerResponse, attach: () => void): boolean {
  if (res.destroyed || res.writableEnded) return false;
  if (openedHere.delete(res)) {
    // no library stream to wait for: the fast set-up wrote the headers and the first update
    attach();
    return true;
  }
  const { write, end } = res;
  res.write = ((chunk: unknown, ...rest: unknown[]) =>
    isCompletion(chunk)
      ? true
      : (write as (...args: unknown[]) => boolean).call(res, chunk, ...rest)) as typeof write;
  res.end = (() => {
    // The fast path writes to the socket itself, with its own backlog check and event count:
    // node's own write again, and nothing of what wrapped it for the library's stream stays.
    delete (res as Partial<ServerResponse>).write;
    res.end = end;
    dropListenersSinceMark(res);
    dropListenersSinceMark(res.req);
    attach();
    return res;
  }) as typeof end;
  return true;
}

/**
 * What the library gets to serve: the first value of `source` mapped, then the end, with the
 * rest of `source` handed over (unless it ended, or `handOver` declined). The source is no
 * longer this iterator's then, so a later return() leaves it alone.
 */
export function firstThenHandOver<T>(
  source: PushSource<T>,
  map: (value: T) => ExecutionResult | Promise<ExecutionResult>,
  handOver: (rest: PushSource<T>) => boolean,
): AsyncIterableIterator<ExecutionResult> {
  let state: 'first' | 'rest' | 'handed over' = 'first';
  const done = { value: undefined, done: true } as const;
  return {
    async next() {
      if (state === 'first') {
        state = 'rest';
        const next = await source.next();
        return next.done ? next : { value: await map(next.value), done: false };
      }
      if (state === 'rest') {
        if (!source.ended && handOver(source)) state = 'handed over';
        else await source.return?.();
      }
      return done;
    },
    async return() {
      if (state !== 'handed over') await source.return?.();
      return done;
    },
    async throw(error?: unknown) {
      if (state !== 'handed over') await source.return?.();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/**
 * The fast set-up (fast-setup.ts) writes a distinct-connections stream as graphql-sse writes it:
 * these headers (yoga adds CORS and `X-Accel-Buffering`), an empty comment first (some browsers
 * show nothing until the first bytes of the body), then each result as an `event: next` (as the
 * fan-out writes one, messages.ts), and `event: complete` when the stream ends before the
 * hand-over.
 */
export const GRAPHQL_SSE_HEADERS = {
  connection: 'keep-alive',
  'cache-control': 'no-cache',
  'content-encoding': 'none',
  'content-type': 'text/event-stream; charset=utf-8',
} as const;
export const GRAPHQL_SSE_OPENING = ':\n\n';
export const GRAPHQL_SSE_COMPLETE = print({ event: 'complete', data: null });

/** Responses the fast set-up serves, until their stream is taken over (or it ends). */
const openedHere = new WeakSet<ServerResponse>();

/**
 * `res` is served by the fast set-up, which writes the headers and the first update before the
 * hand-over: takeOverResponse attaches it at once.
 */
export function openedByFastSetup(res: ServerResponse): void {
  openedHere.add(res);
}

/** Whether the stream of a response the fast set-up opened was not taken over (and forgets it). */
export const notTakenOver = (res: ServerResponse): boolean => openedHere.delete(res);
