import {
  Client,
  cacheExchange,
  fetchExchange,
  mapExchange,
  subscriptionExchange,
} from '@urql/core';
import { createClient as createSseClient } from 'graphql-sse';

/**
 * One urql client per signed-in token: queries and mutations over HTTP (uploads as multipart),
 * subscriptions over one graphql-sse connection in single-connection mode, so that any number
 * of live rows share a single stream (browsers allow only six connections per origin).
 */
export function createApiClient(
  token: string | null,
  { onUnauthenticated }: { onUnauthenticated?: () => void } = {},
) {
  const headers: Record<string, string> = {
    // Marks every request as sent by script, so CSRF prevention lets uploads through even when
    // auth is disabled and there is no Authorization header.
    'x-graphql-yoga-csrf': '1',
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  };
  const sse = createSseClient({
    url: new URL('/graphql/stream', window.location.origin).toString(),
    headers,
    singleConnection: true,
    // One connection serves every subscription; keep it while the page lives.
    lazy: true,
    retryAttempts: 5,
  });
  const client = new Client({
    url: '/graphql',
    fetchOptions: { headers },
    // Show what is cached at once, and refresh it from the server.
    requestPolicy: 'cache-and-network',
    exchanges: [
      // A token the server stops accepting (restarted with other tokens) signs the tab out.
      mapExchange({
        onError(error) {
          if (error.graphQLErrors.some((e) => e.extensions.code === 'UNAUTHENTICATED')) {
            onUnauthenticated?.();
          }
        },
      }),
      // The document cache refetches queries whose types a mutation returned.
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({
            unsubscribe: sse.subscribe({ ...request, query: request.query ?? '' }, sink),
          }),
        }),
      }),
    ],
  });
  return { client, dispose: () => sse.dispose() };
}
