import type { Plugin } from 'graphql-yoga';

/**
 * A subscription refused before it starts (UNAUTHENTICATED, NOT_FOUND, BAD_USER_INPUT) yields
 * `{ errors }` without `data`. graphql-sse 2.6 only recognises a result that has `data`, and
 * answers anything else with a bare 400 "Unable to detect operation AST" (enisdenjo/graphql-sse#63),
 * so the client never learns the error code. With `data: null` it streams the errors.
 */
export function useSubscriptionErrorResults(): Plugin {
  return {
    onSubscribe: () => ({
      onSubscribeResult({ result, setResult }) {
        if (Symbol.asyncIterator in result || 'data' in result) return;
        setResult({ ...result, data: null });
      },
    }),
  };
}
