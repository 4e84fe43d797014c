import {
  createSourceEventStream,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  execute,
} from 'graphql';
import type { GraphQLParams, Plugin } from 'graphql-yoga';
import { isPushSource } from '../events/push-source.ts';
import type { SseFanout, StreamExecutor } from '../http/sse/fanout.ts';
import { firstThenHandOver, ownStreamResponse } from '../http/sse/hand-over.ts';
import type { KnownSubscriptions } from '../http/sse/known-subscriptions.ts';
import { type OperationOutput, sharedUpdateOf } from '../http/sse/shared-update.ts';
import type { GraphQLContext } from '../schema/context.ts';

const documentIds = new WeakMap<DocumentNode, number>();
let nextDocumentId = 0;

/**
 * An event goes to every subscriber of a job as one object (see training/progress-stream.ts),
 * and most subscribers ask the same operation: executing it once per event and operation, not
 * once per subscriber, is what lets one process feed thousands of them. The operation is the
 * same when the parsed document (yoga caches it per query text), the operation name, the
 * variables and the role are; nothing else in the context changes a result. Each update carries
 * its results and their bytes (http/sse/shared-update.ts).
 *
 * A stream of its own served by node:http goes on the fast path after its first update: the
 * source pushes to the response directly (see http/sse/fanout.ts); without a fan-out
 * (SSE_FAST_PATH=false) every stream stays with the libraries. An operation that went on the fast
 * path once is `known`: the next streams of it are set up without the libraries
 * (http/sse/fast-setup.ts), which call `subscribe` themselves.
 */
export function createSharedSubscriptionResults(
  fastPath: { fanout: SseFanout; known: KnownSubscriptions } | null,
): { plugin: Plugin<GraphQLContext>; subscribe: SubscribeShared } {
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

  const subscribeShared: SubscribeShared = async (args) => {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return source;
    const key = operationKey(args);
    const execute = (event: unknown) => executeOnce(event, key, args).result;
    const iterator = source[Symbol.asyncIterator]();
    const res = ownStreamResponse(args.contextValue.request, args.contextValue.res);
    if (!fastPath || !res || !isPushSource(iterator)) return mapIterator(iterator, execute);
    return firstThenHandOver(iterator, execute, (rest) => {
      if (!fastPath.fanout.adopt(res, rest, () => executorFor(key, args))) return false;
      const { params } = args.contextValue as { params?: GraphQLParams };
      if (typeof params?.query === 'string')
        fastPath.known.add(params.query, params.operationName, args.document);
      return true;
    });
  };

  return {
    plugin: {
      onSubscribe({ setSubscribeFn }) {
        setSubscribeFn(subscribeShared as never);
      },
    },
    subscribe: subscribeShared,
  };
}

/**
 * graphql's subscribe with the results shared: what the plugin makes envelop's subscribe, and
 * what the fast set-up calls itself (http/sse/fast-setup.ts).
 */
export type SubscribeShared = (
  args: ExecutionArgs & { contextValue: GraphQLContext },
) => Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult>;

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

  execute(event: unknown): OperationOutput {
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

function executeOnce(event: unknown, key: string, args: ExecutionArgs): OperationOutput {
  return sharedUpdateOf(event).output(key, (value) => execute({ ...args, rootValue: value }));
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
