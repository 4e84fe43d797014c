import type { Plugin } from 'graphql-yoga';
import { Heartbeat } from './heartbeat.ts';

/** yoga's SSE and graphql-sse each ping their streams this often on their own. */
export const LIBRARY_KEEPALIVE_MS = 12_000;

/** What every event-stream response carries besides its protocol's headers (see below). */
export const EVENT_STREAM_HEADERS = { 'x-accel-buffering': 'no' } as const;

/**
 * Event-stream responses (yoga's SSE on /graphql and graphql-sse on /graphql/stream) get
 * `X-Accel-Buffering: no`, so that nginx passes each event on at once instead of buffering, and,
 * when `keepAliveMs` is shorter than the libraries' own pings, pings of ours in between.
 */
export function useEventStreams({ keepAliveMs }: { keepAliveMs: number }): Plugin {
  const heartbeat = keepAliveMs < LIBRARY_KEEPALIVE_MS ? new Heartbeat(keepAliveMs) : null;
  return {
    onResponse({ response, setResponse, fetchAPI }) {
      if (!response.headers.get('content-type')?.startsWith('text/event-stream')) return;
      for (const [name, value] of Object.entries(EVENT_STREAM_HEADERS)) {
        response.headers.set(name, value);
      }
      if (!heartbeat || !response.body) return;
      setResponse(
        new fetchAPI.Response(heartbeat.wrap(response.body, fetchAPI.ReadableStream), {
          status: response.status,
          statusText: response.statusText,
          headers: response.headers,
        }),
      );
    },
  };
}
