import { isAsyncIterable, type Plugin } from 'graphql-yoga';

/**
 * A subscription that fails before it starts (unauthenticated, unknown id) yields a result with
 * `errors` but no `data` key. The graphql-sse handler does not take that for a result and answers
 * 400 "Unable to detect operation AST" instead of the errors; with `data: null` it streams them
 * (one `next` event, then `complete`), so clients see the error code.
 */
export function useSubscriptionErrorsOverSSE(): Plugin {
  return {
    onSubscribe: () => ({
      onSubscribeResult: ({ result, setResult }) => {
        if (!isAsyncIterable(result) && !('data' in result)) setResult({ ...result, data: null });
      },
    }),
  };
}
