import {
  createSourceEventStream,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  execute,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from './context.ts';

type Result = ExecutionResult | Promise<ExecutionResult>;

const documentIds = new WeakMap<DocumentNode, number>();
let nextDocumentId = 0;
/** Per event object: the result of each operation that was executed on it. */
const resultsByEvent = new WeakMap<object, Map<string, Result>>();

/**
 * An event goes to every subscriber of a job as one object (see training/progress-stream.ts),
 * and most subscribers ask the same operation: executing it once per event and operation, not
 * once per subscriber, is what lets one process feed thousands of them. The operation is the
 * same when the parsed document (yoga caches it per query text), the operation name, the
 * variables and the role are; nothing else in the context changes a result. Results are
 * shared, so nothing may mutate them (plugins that change results return new objects).
 */
export function useSharedSubscriptionResults(): Plugin<GraphQLContext> {
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(subscribeShared as never);
    },
  };
}

async function subscribeShared(
  args: ExecutionArgs & { contextValue: GraphQLContext },
): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in source)) return source;
  const key = operationKey(args);
  return mapIterator(source[Symbol.asyncIterator](), (event) => executeOnce(event, key, args));
}

function operationKey(args: ExecutionArgs & { contextValue: GraphQLContext }): string {
  let id = documentIds.get(args.document);
  if (id === undefined) {
    id = nextDocumentId++;
    documentIds.set(args.document, id);
  }
  return JSON.stringify([
    id,
    args.operationName ?? null,
    args.variableValues ?? null,
    args.contextValue.auth.role,
  ]);
}

function executeOnce(event: unknown, key: string, args: ExecutionArgs): Result {
  if (typeof event !== 'object' || event === null) return execute({ ...args, rootValue: event });
  let results = resultsByEvent.get(event);
  if (!results) {
    results = new Map();
    resultsByEvent.set(event, results);
  }
  let result = results.get(key);
  if (!result) {
    result = execute({ ...args, rootValue: event });
    results.set(key, result);
  }
  return result;
}

/** `source` with `map` applied to each value; return() reaches the source at once. */
function mapIterator<T, U>(
  source: AsyncIterator<T>,
  map: (value: T) => U | Promise<U>,
): AsyncIterableIterator<U> {
  return {
    async next() {
      const next = await source.next();
      return next.done ? next : { value: await map(next.value), done: false };
    },
    async return() {
      await source.return?.();
      return { value: undefined, done: true };
    },
    async throw(error?: unknown) {
      await source.return?.();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
