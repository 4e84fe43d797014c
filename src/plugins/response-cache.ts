import { createHash } from 'node:crypto';
import {
  type Cache,
  createInMemoryCache,
  useResponseCache,
} from '@graphql-yoga/plugin-response-cache';
import {
  type DocumentNode,
  type ExecutionResult,
  type GraphQLSchema,
  TypeInfo,
  visit,
  visitWithTypeInfo,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { authenticate } from '../auth/request-auth.ts';
import type { TokenStore } from '../auth/tokens.ts';
import type { AppEvents } from '../events/topics.ts';
import { encodeGlobalID } from '../schema/global-ids.ts';

type Entity = { typename: string; id?: string | number };

const types = (...typenames: string[]): Entity[] => typenames.map((typename) => ({ typename }));

/**
 * What each change can alter, as the types (or the entities, typename and ID) held by the results
 * it drops. A job created, moved to another status or deleted changes lists filtered by status,
 * the status counts and the queue positions of other jobs; its progress changes that job alone.
 */
const DROPPED_BY = {
  // a plan's duration estimate comes from completed jobs, its counts from the documents
  jobs: types('TrainingJob', 'TrainingJobConnection', 'TrainingSystemStatus', 'TrainingPlan'),
  jobProgress: (jobId: string) => [
    { typename: 'TrainingJob', id: encodeGlobalID('TrainingJob', jobId) },
  ],
  models: types(
    'ModelVersion',
    'ModelVersionConnection',
    'ModelActivationConnection',
    'TrainingSystemStatus',
    'Classification',
  ),
  documents: types('DatasetStats', 'DocumentConnection', 'TrainingPlan'),
  // every query result holds its root type
  resync: types('Query'),
};

/**
 * Query results are cached per role and dropped as soon as this process hears of a change that
 * alters them (the event bus says what changed, here or, through the relay, in another process),
 * so dashboards polling the same queries cost no database round trips and never see a result
 * older than a mutation that returned. The TTL bounds staleness when a change goes unheard (a
 * writer without the relay, notifications lost while the relay reconnected).
 *
 * OCR batches change with every image read and are followed by subscription: results that hold
 * one are not cached.
 */
export function useTrainingResponseCache(
  events: AppEvents,
  tokens: TokenStore | 'disabled',
  ttlMs: number,
): Plugin {
  const cache = new ChangeAwareCache();
  const unsubscribers = [
    events.subscribe('jobs', () => cache.drop(DROPPED_BY.jobs)),
    events.subscribe('jobProgress', ({ jobId }) => cache.drop(DROPPED_BY.jobProgress(jobId))),
    events.subscribe('models', () => cache.drop(DROPPED_BY.models)),
    events.subscribe('documents', () => cache.drop(DROPPED_BY.documents)),
    events.subscribe('resync', () => cache.drop(DROPPED_BY.resync)),
  ];
  return {
    onPluginInit({ addPlugin }) {
      // before the cache's own hooks, so that each result is known by the time it is stored
      addPlugin(cache.tracker);
      addPlugin(
        useResponseCache({
          cache,
          ttl: ttlMs,
          ttlPerSchemaCoordinate: { OcrBatch: 0, 'Query.ocrBatch': 0 },
          // The role, not the token: results differ by role only; anonymous results are errors and never cached.
          session: (request) => authenticate(request, tokens).role,
          enabled: (_request, context) => ttlMs > 0 && !isUncached(context),
          buildResponseCacheKey: ({ documentString, variableValues, operationName, sessionId }) =>
            responseCacheKey([sessionId, operationName, documentString, variableValues]),
        }),
      );
    },
    onDispose() {
      for (const unsubscribe of unsubscribers) unsubscribe();
    },
  };
}

/**
 * Spread into the initial context of operations that do not come through yoga's request handling
 * (graphql-ws): the plugin keys results in yoga's `onParams`, which they never pass, so they
 * skip the cache (and are always executed).
 */
export const UNCACHED = { responseCache: false } as const;

const isUncached = (context: unknown) =>
  (context as { responseCache?: boolean } | undefined)?.responseCache === false;

/** Changes remembered for the executions still running when they happened. */
const REMEMBERED_CHANGES = 256;

/**
 * The plugin's in-memory cache, made exact in two ways:
 * - each result is also tied to the types its query selects: the plugin ties it only to the
 *   entities with an ID it holds and to the types of its null or empty fields, so that a
 *   `datasetStats` result, or a page of jobs none of which changed, would be tied to nothing a
 *   change could name;
 * - a result is not stored when something it holds changed while it was computed: it may have
 *   read the state from before the change, after the change was dropped from the cache.
 */
class ChangeAwareCache implements Cache {
  readonly #results = createInMemoryCache({ max: 1000 });
  readonly #executions = new WeakMap<object, { startedAt: number; types: readonly string[] }>();
  readonly #recent: { at: number; keys: readonly string[] }[] = [];
  #changes = 0;

  /** Notes when each execution starts and which types its document selects. */
  readonly tracker: Plugin = {
    onExecute: ({ args }) => {
      const startedAt = this.#changes;
      return {
        onExecuteDone: ({ result }) => {
          // @defer and @stream results are merged into a new object by the plugin: not cached
          if (Symbol.asyncIterator in result) return;
          const types = selectedTypes(args.schema, args.document);
          this.#executions.set(result, { startedAt, types });
        },
      };
    },
  };

  drop(entities: Entity[]): void {
    this.#changes += 1;
    this.#recent.push({ at: this.#changes, keys: entities.map(entityKey) });
    if (this.#recent.length > REMEMBERED_CHANGES) this.#recent.shift();
    this.#results.invalidate(entities);
  }

  get(key: string) {
    return this.#results.get(key);
  }

  set(key: string, result: ExecutionResult, entities: Iterable<Entity>, ttl: number) {
    const execution = this.#executions.get(result);
    if (!execution) return;
    const held = [...entities, ...types(...execution.types)];
    if (this.#changedSince(execution.startedAt, held)) return;
    return this.#results.set(key, result, held, ttl);
  }

  /**
   * The plugin calls this after each mutation with the entities of the mutation's result (and
   * the types of its null fields, scalars included). The events already say what changed, here
   * and elsewhere; that guess would miss lists the entity is not in yet and drop unrelated results.
   */
  invalidate(): void {}

  #changedSince(startedAt: number, held: Entity[]): boolean {
    if (startedAt === this.#changes) return false;
    const oldest = this.#recent[0];
    if (!oldest || oldest.at > startedAt + 1) return true;
    const keys = new Set<string>();
    for (const entity of held) {
      keys.add(entity.typename);
      if (entity.id !== undefined) keys.add(entityKey(entity));
    }
    return this.#recent.some(
      (change) => change.at > startedAt && change.keys.some((k) => keys.has(k)),
    );
  }
}

/** The plugin's in-memory cache names entities this way. */
const entityKey = ({ typename, id }: Entity) => (id === undefined ? typename : `${typename}:${id}`);

const typesByDocument = new WeakMap<DocumentNode, readonly string[]>();

/** The object, interface and union types a document selects fields of, its root type included. */
function selectedTypes(schema: GraphQLSchema, document: DocumentNode): readonly string[] {
  let found = typesByDocument.get(document);
  if (!found) {
    const typeInfo = new TypeInfo(schema);
    const names = new Set<string>();
    visit(
      document,
      visitWithTypeInfo(typeInfo, {
        SelectionSet: () => {
          const type = typeInfo.getParentType();
          if (type) names.add(type.name);
        },
      }),
    );
    found = [...names];
    typesByDocument.set(document, found);
  }
  return found;
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
