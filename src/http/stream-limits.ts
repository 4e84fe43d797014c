import { createHash } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from '../logger.ts';
import { markListeners } from './listener-marks.ts';

export type StreamLimits = {
  /** Open event streams one token (or all anonymous callers together) may hold. */
  maxStreamsPerToken: number;
  /** Open event streams in this process. */
  maxStreams: number;
  /** Bytes a stream may have queued for a client that does not read; then it is closed. */
  maxStreamBacklogBytes: number;
};

const isEventStream = (req: IncomingMessage) =>
  (req.headers.accept ?? '').includes('text/event-stream');

const keyOf = (req: IncomingMessage) =>
  createHash('sha256')
    .update(req.headers.authorization ?? '')
    .digest('base64url');

function refuse(res: ServerResponse, message: string, limit: string) {
  res.writeHead(429, { 'content-type': 'application/json; charset=utf-8', 'retry-after': '5' });
  res.end(JSON.stringify({ errors: [{ message, extensions: { code: 'FORBIDDEN', limit } }] }));
}

/**
 * Tracks open SSE streams and caps them per token and in all, and closes a stream whose client stops reading
 * once its backlog passes the limit, so neither many nor slow clients can hold memory unbounded.
 * Works on the Node response, which closes the same way whether the stream ended or the client left.
 */
export function limitEventStreams(handler: RequestListener, limits: StreamLimits, logger: Logger) {
  const perKey = new Map<string, number>();
  const streams = new Set<ServerResponse>();

  const listener: RequestListener = (req, res) => {
    if (!isEventStream(req)) return handler(req, res);
    const key = keyOf(req);
    const mine = perKey.get(key) ?? 0;
    if (streams.size >= limits.maxStreams) {
      return refuse(
        res,
        `The server has ${limits.maxStreams} open event streams, its limit`,
        'maxStreams',
      );
    }
    if (mine >= limits.maxStreamsPerToken) {
      return refuse(
        res,
        `This token has ${limits.maxStreamsPerToken} open event streams, its limit`,
        'maxStreamsPerToken',
      );
    }
    streams.add(res);
    perKey.set(key, mine + 1);
    res.once('close', () => {
      streams.delete(res);
      const left = (perKey.get(key) ?? 1) - 1;
      if (left > 0) perKey.set(key, left);
      else perKey.delete(key);
    });
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    res.write = ((...args: unknown[]) => {
      const accepted = write(...args);
      if (res.writableLength > limits.maxStreamBacklogBytes) {
        logger.warn(
          { backlog: res.writableLength },
          'closing an event stream whose client stopped reading',
        );
        res.destroy();
      }
      return accepted;
    }) as ServerResponse['write'];
    // What the app adds from here on can be dropped when the fan-out takes a stream over.
    markListeners(req);
    markListeners(res);
    return handler(req, res);
  };
  return Object.assign(listener, {
    openStreams: () => streams.size,
    /** Event streams never end on their own: at shutdown they are cut, and clients reconnect. */
    closeStreams: () => {
      for (const res of streams) res.destroy();
    },
  });
}
