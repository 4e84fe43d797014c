import type { Plugin } from 'graphql-yoga';
import { Heartbeat } from './heartbeat.ts';

/** yoga's SSE and graphql-sse each ping their streams this often on their own. */
export const LIBRARY_KEEPALIVE_MS = 12_000;

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
      response.headers.set('x-accel-buffering', 'no');
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
