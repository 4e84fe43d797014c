import {
  createSourceEventStream,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  execute,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { isPushSource, type PushSource } from '../events/push-source.ts';
import type { SseFanout, StreamExecutor } from '../http/sse-fanout.ts';
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
 *
 * A stream of its own served by node:http goes on the fast path after its first update: the
 * source pushes to the response directly (see http/sse-fanout.ts); without a fan-out
 * (SSE_FAST_PATH=false) every stream stays with the libraries.
 */
export function useSharedSubscriptionResults(fanout: SseFanout | null): Plugin<GraphQLContext> {
  const executors = new Map<string, SharedExecutor>();
  const executorFor = (key: string, args: ExecutionArgs) => {
    let executor = executors.get(key);
    if (!executor) {
      executor = new SharedExecutor(key, args, executors);
      executors.set(key, executor);
    }
    executor.refs += 1;
    return executor;
  };

  async function subscribeShared(
    args: ExecutionArgs & { contextValue: GraphQLContext },
  ): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return source;
    const key = operationKey(args);
    const execute = (event: unknown) => executeOnce(event, key, args);
    const iterator = source[Symbol.asyncIterator]();
    const res = fanout?.responseFor(args.contextValue.request, args.contextValue.res);
    if (!fanout || !res || !isPushSource(iterator)) return mapIterator(iterator, execute);
    return firstThenHandOver(iterator, execute, (rest) =>
      fanout.adopt(res, rest, () => executorFor(key, args)),
    );
  }

  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(subscribeShared as never);
    },
  };
}

/**
 * Executes one operation for every stream of it on the fast path: their contexts differ in
 * nothing that changes a result (see operationKey), so the first one's serves them all and the
 * others' (request, loaders, library state) need not stay alive with their streams.
 */
class SharedExecutor implements StreamExecutor<unknown> {
  refs = 0;

  constructor(
    private readonly key: string,
    private readonly args: ExecutionArgs,
    private readonly registry: Map<string, SharedExecutor>,
  ) {}

  execute(event: unknown): Result {
    return executeOnce(event, this.key, this.args);
  }

  release(): void {
    this.refs -= 1;
    if (this.refs === 0) this.registry.delete(this.key);
  }
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

/**
 * The first value of `source` mapped, then the end, with the rest of `source` handed over
 * (unless it ended, or `handOver` declined). The source is no longer this iterator's then, so
 * a later return() leaves it alone.
 */
function firstThenHandOver<T>(
  source: PushSource<T>,
  map: (value: T) => Result,
  handOver: (rest: PushSource<T>) => boolean,
): AsyncIterableIterator<ExecutionResult> {
  let state: 'first' | 'rest' | 'handed over' = 'first';
  const done = { value: undefined, done: true } as const;
  return {
    async next() {
      if (state === 'first') {
        state = 'rest';
        const next = await source.next();
        return next.done ? next : { value: await map(next.value), done: false };
      }
      if (state === 'rest') {
        if (!source.ended && handOver(source)) state = 'handed over';
        else await source.return?.();
      }
      return done;
    },
    async return() {
      if (state !== 'handed over') await source.return?.();
      return done;
    },
    async throw(error?: unknown) {
      if (state !== 'handed over') await source.return?.();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
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
