import type { CORSOptions } from 'graphql-yoga';
import { REQUEST_ID_HEADER } from './request-log.ts';

/**
 * yoga's CORS for the allowed browser origins (CORS_ORIGINS): a request from one of them gets
 * its origin back (preflights included); from any other, no CORS header at all, so the browser
 * keeps it from the page (same-origin requests need none). Tokens travel in a header, never in
 * cookies, so credentials are not allowed.
 */
export function corsFor(origins: readonly string[]) {
  const allowed = new Set(origins);
  return (request: Request): CORSOptions => {
    const origin = request.headers.get('origin');
    if (origin === null || !allowed.has(origin)) return false;
    return {
      origin,
      credentials: false,
      methods: ['GET', 'POST', 'PUT', 'DELETE'],
      exposedHeaders: [REQUEST_ID_HEADER],
      maxAge: 600,
    };
  };
}
