import { createHash } from 'node:crypto';
import { createInMemoryCache, useResponseCache } from '@graphql-yoga/plugin-response-cache';
import { authenticate } from '../auth/context.ts';
import type { TokenStore } from '../auth/tokens.ts';
import type { AppEvents } from '../events/topics.ts';

/**
 * Query results are cached per role and dropped whenever a job or model version changes (the
 * event bus says so), so dashboards polling the same queries cost no database round trips.
 * The TTL bounds staleness for changes another process made.
 *
 * Dropping works by generation: every change starts a new one, and the generation is part of the
 * cache key, so no result computed before the change can be served after it.
 */
export function useTrainingResponseCache(
  events: AppEvents,
  tokens: TokenStore | 'disabled',
  ttlMs: number,
) {
  let generation = 0;
  events.subscribe('jobs', () => {
    generation += 1;
  });
  return useResponseCache({
    cache: createInMemoryCache({ max: 1000 }),
    ttl: ttlMs,
    // The role, not the token: results differ by role only; anonymous results are errors and never cached.
    session: (request) => authenticate(request, tokens).role,
    enabled: () => ttlMs > 0,
    buildResponseCacheKey: ({ documentString, variableValues, operationName, sessionId }) =>
      responseCacheKey([generation, sessionId, operationName, documentString, variableValues]),
  });
}

/**
 * The key is built for every request, mutations included, so uploaded files must not be
 * serialized into it (a Buffer becomes a JSON array of its bytes: a 50 MB upload, a string of
 * 200 MB). Mutations are never cached, so a file's place in the key needs no content.
 */
export const responseCacheKey = (parts: unknown[]) =>
  createHash('sha256').update(JSON.stringify(parts, withoutFiles)).digest('base64url');

const withoutFiles = (_key: string, value: unknown) =>
  typeof value === 'object' && value !== null && isFileLike(value) ? 'file' : value;

const isFileLike = (value: object) =>
  'arrayBuffer' in value && typeof value.arrayBuffer === 'function';
