import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TOKEN_HEADER_KEY, TOKEN_QUERY_KEY } from 'graphql-sse';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { accessDenied, authOfHeader } from '../../auth/request-auth.ts';
import type { TokenStore } from '../../auth/tokens.ts';
import type { Logger } from '../../logger.ts';
import { ErrorCode } from '../../vocabulary/errors.ts';
import { pathOf, SSE_ENDPOINT, streamKindOf } from '../endpoints.ts';
import { refuseAndClose } from '../refusals.ts';
import { type RequestRecord, requestRecordOf } from '../request-log.ts';
import {
  isRefusal,
  refusalDocument,
  refusalError,
  releasing,
  STREAM_REFUSAL_STATUS,
  type StreamLimiter,
  type StreamRefusal,
  type StreamSlot,
  streamRefusalHeaders,
} from './stream-limits.ts';

/** What node:http serving adds to yoga's server context (and so to every GraphQL context). */
export type NodeServerContext = {
  req?: IncomingMessage;
  res?: ServerResponse;
  /** The stream limits of the server answering (absent with `yoga.fetch`). */
  streams?: StreamLimiter;
};

const isEventStream = (response: Response) =>
  response.headers.get('content-type')?.startsWith('text/event-stream') ?? false;

/** The graphql-sse stream token a request names (single-connection mode), if any. */
function streamTokenOf(req: IncomingMessage): string | null {
  if (pathOf(req.url) !== SSE_ENDPOINT) return null;
  // the URL is parsed only for a token in the query (every stream request asks this)
  const given =
    req.headers[TOKEN_HEADER_KEY] ??
    (req.url?.includes('?')
      ? new URL(req.url, 'http://localhost').searchParams.get(TOKEN_QUERY_KEY)
      : null);
  return (Array.isArray(given) ? given.join('') : given) || null;
}

/** The slot a request took before the app saw it, and the reservation it came from, if any. */
type Admitted = { slot?: StreamSlot; reservation?: string };
const admitted = new WeakMap<ServerResponse, Admitted>();

function refuseStream(res: ServerResponse, refusal: StreamRefusal): void {
  refuseAndClose(
    res,
    STREAM_REFUSAL_STATUS,
    refusal.message,
    { code: ErrorCode.FORBIDDEN, limit: refusal.limit },
    streamRefusalHeaders(),
  );
}

/**
 * A request that asks for an event stream takes its slot before the app sees it (a
 * single-connection stream takes over its reservation's), or is answered 429: the app never
 * starts a stream it would have to take back, and the fast path (fanout.ts), which serves only
 * such requests, never gets a refused one. The slot's release is placed before the app's
 * listeners, which the fast path drops. Returns false when it refused the request.
 */
export function admitEventStream(
  req: IncomingMessage,
  res: ServerResponse,
  streams: StreamLimiter,
): boolean {
  if (!req.headers.accept?.includes('text/event-stream')) return true;
  const token = streamTokenOf(req);
  const reserved = token !== null ? streams.take(token) : undefined;
  const slot = reserved ?? streams.acquire(req.headers.authorization, streamKindOf(req.url));
  if (isRefusal(slot)) {
    refuseStream(res, slot);
    return false;
  }
  const entry: Admitted = { slot, reservation: reserved && token !== null ? token : undefined };
  admitted.set(res, entry);
  // `on`, not `once` (a response closes once): once() would wrap the listener per stream
  res.on('close', () => entry.slot?.release());
  return true;
}

/**
 * Counts streams where they are served, whatever was asked for: every response that goes out as
 * `text/event-stream` holds a slot of the server's StreamLimiter until its connection closes. One
 * that asked keeps the slot admitEventStream took (one that did not get a stream gives it back);
 * one that did not ask (yoga answers a subscription with an event stream also for
 * `Accept: *\/*` or none) takes one now, or is answered 429 instead, its library stream
 * cancelled. Each subscription posted to a single-connection stream takes a slot of its own: one
 * connection cannot carry more subscriptions than the caller may open streams. A stream whose
 * client stops reading is closed once MAX_STREAM_BACKLOG_BYTES wait for it (the fast path checks
 * the same on its own writes).
 */
export function useEventStreamLimits(logger: Logger): Plugin {
  return {
    onResponse({ response, serverContext, setResponse, fetchAPI }) {
      const { streams, res, req } = serverContext as NodeServerContext;
      if (!streams || !res || !req) return;
      const entry = admitted.get(res);
      if (!isEventStream(response)) {
        if (entry?.slot) giveBack(streams, entry);
        return;
      }
      let slot = entry?.slot;
      if (!slot) {
        const acquired = streams.acquire(req.headers.authorization, streamKindOf(req.url));
        if (isRefusal(acquired)) {
          // Nobody reads the library's stream yet; cancelling it ends its subscription.
          response.body?.cancel().catch(() => {});
          setResponse(
            new fetchAPI.Response(refusalDocument(acquired), {
              status: STREAM_REFUSAL_STATUS,
              headers: streamRefusalHeaders(),
            }),
          );
          return;
        }
        slot = acquired;
        res.on('close', () => acquired.release());
      }
      servingStream(res, slot);
      capBacklog(res, streams.limits.maxStreamBacklogBytes, logger, requestRecordOf(req));
    },
    onSubscribe({ args }) {
      const { streams, req } = args.contextValue as NodeServerContext;
      // graphql-sse streams an operation on its own response only for exactly this Accept.
      if (!streams || !req || req.headers.accept === 'text/event-stream') return;
      if (streamTokenOf(req) === null) return;
      return {
        onSubscribeResult({ result, setResult }) {
          if (!isAsyncIterable(result)) return;
          const slot = streams.acquire(req.headers.authorization, 'graphql-sse');
          if (isRefusal(slot)) {
            void result.return?.();
            setResult({ data: null, errors: [refusalError(slot)] });
            return;
          }
          const counted = releasing(result, slot);
          slot.close = () => void counted.return();
          setResult(counted);
        },
      };
    },
  };
}

/**
 * The stream of `res` is served, holding `slot` (by default the one admitEventStream took):
 * closing the slot (at shutdown) cuts it.
 */
export function servingStream(
  res: ServerResponse,
  slot: StreamSlot | undefined = admitted.get(res)?.slot,
): void {
  if (slot) slot.close = () => res.destroy();
}

/** A request that asked for a stream and got none: its reservation keeps the slot, or it goes. */
function giveBack(streams: StreamLimiter, entry: Admitted): void {
  const { slot, reservation } = entry;
  entry.slot = undefined;
  if (!slot) return;
  if (reservation !== undefined) streams.hold(reservation, slot);
  else slot.release();
}

const NEXT = 'event: next';

/** Whether a chunk the libraries write starts an update (not a ping, a completion or a part). */
const startsUpdate = (chunk: unknown) =>
  typeof chunk === 'string'
    ? chunk.startsWith(NEXT)
    : chunk instanceof Uint8Array &&
      Buffer.from(chunk.buffer, chunk.byteOffset, Math.min(chunk.byteLength, NEXT.length)).toString(
        'latin1',
      ) === NEXT;

/**
 * Closes a stream whose client stops reading, once its backlog passes `maxBytes`, and counts the
 * updates the library writes for the request's access-log line (the fast path counts its own).
 */
function capBacklog(
  res: ServerResponse,
  maxBytes: number,
  logger: Logger,
  record: RequestRecord | undefined,
): void {
  const write = res.write.bind(res) as (...args: unknown[]) => boolean;
  if (record) record.events = 0;
  res.write = ((...args: unknown[]) => {
    const accepted = write(...args);
    if (record && startsUpdate(args[0])) record.events = (record.events ?? 0) + 1;
    if (res.writableLength > maxBytes) {
      (record?.log ?? logger).warn(
        { backlog: res.writableLength },
        'closing an event stream whose client stopped reading',
      );
      res.destroy();
    }
    return accepted;
  }) as ServerResponse['write'];
}

/**
 * graphql-sse keeps a single-connection reservation (`PUT /graphql/stream`) until its stream
 * connects and closes, and would take any number of them from anyone. Here a reservation needs a
 * token (any role may subscribe) and takes a stream slot, held under its stream token until the
 * stream connects (useEventStreamLimits) and released if graphql-sse does not make it. A token
 * the client did not choose is chosen here, so that the reservation has a name to be held under.
 * Returns false when it refused the request.
 */
export function admitReservation(
  req: IncomingMessage,
  res: ServerResponse,
  streams: StreamLimiter,
  tokens: TokenStore | 'disabled',
): boolean {
  if (req.method !== 'PUT' || pathOf(req.url) !== SSE_ENDPOINT) return true;
  const auth = authOfHeader(req.headers.authorization, tokens);
  if (auth.role === null) {
    const denied = accessDenied(auth);
    refuseAndClose(res, denied.httpStatus, denied.message, { code: denied.code });
    return false;
  }
  const name = reservationName(req);
  // graphql-sse answers 409: one reservation per stream token.
  if (streams.isHeld(name)) return true;
  const slot = streams.acquire(req.headers.authorization, 'graphql-sse');
  if (isRefusal(slot)) {
    refuseStream(res, slot);
    return false;
  }
  streams.hold(name, slot);
  res.once('close', () => {
    if (res.statusCode !== 201) streams.drop(name, slot);
  });
  return true;
}

function reservationName(req: IncomingMessage): string {
  const given = streamTokenOf(req);
  if (given) return given;
  const chosen = randomUUID();
  req.headers[TOKEN_HEADER_KEY] = chosen;
  return chosen;
}
