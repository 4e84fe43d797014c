import { createHash } from 'node:crypto';
import {
  type Cache,
  createInMemoryCache,
  useResponseCache,
} from '@graphql-yoga/plugin-response-cache';
import {
  type DocumentNode,
  type ExecutionResult,
  type GraphQLNamedType,
  type GraphQLSchema,
  isAbstractType,
  isObjectType,
  TypeInfo,
  visit,
  visitWithTypeInfo,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { authenticate } from '../auth/request-auth.ts';
import type { Role, TokenStore } from '../auth/tokens.ts';
import type { AppEvents } from '../events/topics.ts';
import type { JsonParams } from '../http/json-params.ts';
import { encodeGlobalID } from '../schema/global-ids.ts';

type Entity = { typename: string; id?: string | number };

const types = (...typenames: string[]): Entity[] => typenames.map((typename) => ({ typename }));

/**
 * A job's progress, as an entity of its own: results are tied to it when they select a field of
 * the job that its progress changes, so that a dashboard's `activeJob { id name }` survives the
 * progress flushes (four a second) that a `currentStep` does not.
 */
const JOB_PROGRESS = 'TrainingJob.progress';

/**
 * The fields of a job that stay as they are while its status does: every other one, any added
 * later included, counts as changed by its progress. A status change is a `jobs` event.
 */
const FIELDS_STEADY_WITH_STATUS = new Set([
  '__typename',
  'id',
  'name',
  'modelType',
  'status',
  'totalEpochs',
  'createdAt',
  'startedAt',
  'completedAt',
  'errorMessage',
  'config',
  'plan',
  'queuePosition',
  'modelVersion',
]);

/**
 * What each change can alter, as the types (or the entities, typename and ID) held by the results
 * it drops. A job created, moved to another status or deleted changes lists filtered by status,
 * the status counts and the queue positions of other jobs; its progress changes that job alone,
 * and only the results that select its progress.
 */
const DROPPED_BY = {
  // a plan's duration estimate comes from completed jobs, its counts from the documents
  jobs: types('TrainingJob', 'TrainingJobConnection', 'TrainingSystemStatus', 'TrainingPlan'),
  jobProgress: (jobId: string) => [
    { typename: JOB_PROGRESS, id: encodeGlobalID('TrainingJob', jobId) },
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

/** What yoga answers from the cache: the result's JSON and the headers the cache adds to it. */
export type CachedAnswer = { json: string; etag: string; lastModified: string };

/**
 * Query results are cached per role and dropped as soon as this process hears of a change that
 * alters them (the event bus says what changed, here or, through the relay, in another process),
 * so dashboards polling the same queries cost no database round trips and never see a result
 * older than a mutation that returned. The TTL bounds staleness when a change goes unheard (a
 * writer without the relay, notifications lost while the relay reconnected).
 *
 * OCR batches change with every image read and are followed by subscription: results that hold
 * one are not cached.
 *
 * `answerOf` tells what yoga would answer a request from the cache (http/cached-answers.ts
 * sends it without yoga's HTTP layer).
 */
export function createTrainingResponseCache(
  events: AppEvents,
  tokens: TokenStore | 'disabled',
  ttlMs: number,
) {
  const cache = new ChangeAwareCache();
  const unsubscribers = [
    events.subscribe('jobs', () => cache.drop(DROPPED_BY.jobs)),
    events.subscribe('jobProgress', ({ jobId }) => cache.drop(DROPPED_BY.jobProgress(jobId))),
    events.subscribe('models', () => cache.drop(DROPPED_BY.models)),
    events.subscribe('documents', () => cache.drop(DROPPED_BY.documents)),
    events.subscribe('resync', () => cache.drop(DROPPED_BY.resync)),
  ];
  const plugin: Plugin = {
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
            keyOf(sessionId, operationName, documentString, variableValues),
        }),
      );
    },
    onDispose() {
      for (const unsubscribe of unsubscribers) unsubscribe();
    },
  };
  return {
    plugin,
    /**
     * The answer to `params` from `role` that the cache holds now, once yoga has sent it (the
     * plugin's key: the role, and the operation as yoga reads a JSON body), or null.
     */
    answerOf: (role: Role, params: JsonParams): CachedAnswer | null =>
      cache.answerOf(keyOf(role, params.operationName, params.query || '', params.variables)),
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
  readonly #executions = new WeakMap<object, { startedAt: number; selects: Selection }>();
  readonly #recent: { at: number; keys: readonly string[] }[] = [];
  #changes = 0;

  /** Notes when each execution starts and what its document selects. */
  readonly tracker: Plugin = {
    onExecute: ({ args }) => {
      const startedAt = this.#changes;
      return {
        onExecuteDone: ({ result }) => {
          // @defer and @stream results are merged into a new object by the plugin: not cached
          if (Symbol.asyncIterator in result) return;
          this.#executions.set(result, {
            startedAt,
            selects: selection(args.schema, args.document),
          });
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

  /** The stored result's answer, if it is stored and was sent once (see serializedOnce). */
  answerOf(key: string): CachedAnswer | null {
    const stored = this.#results.get(key);
    if (!stored || stored instanceof Promise) return null;
    const json = serialized.get(stored);
    const lastModified = (stored.extensions?.http as HttpExtensions | undefined)?.headers?.[
      'Last-Modified'
    ];
    return json === undefined || lastModified === undefined
      ? null
      : { json, etag: key, lastModified };
  }

  set(key: string, result: ExecutionResult, entities: Iterable<Entity>, ttl: number) {
    const execution = this.#executions.get(result);
    if (!execution) return;
    const held = [...entities, ...types(...execution.selects.types)];
    if (execution.selects.jobProgress) held.push(...progressOfJobs(held));
    if (this.#changedSince(execution.startedAt, held)) return;
    return this.#results.set(key, serializedOnce(result), held, ttl);
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

/** The JSON of each stored result, once yoga serialized it. */
const serialized = new WeakMap<ExecutionResult, string>();

/** What the plugin adds to a stored result: the headers of every answer from it. */
type HttpExtensions = { headers?: Record<string, string> };

/**
 * Yoga serializes a result with its `stringify` when it has one. A hit is a shallow copy of the
 * stored result, so it has the function and the same data: the JSON of the first response is
 * every hit's, where each hit would serialize the same data again (a page of 20 jobs, ~15 KB).
 */
function serializedOnce(result: ExecutionResult): ExecutionResult {
  return Object.assign(result, {
    stringify: (sanitized: unknown) => {
      let json = serialized.get(result);
      if (json === undefined) {
        json = JSON.stringify(sanitized);
        serialized.set(result, json);
      }
      return json;
    },
  });
}

/** The plugin's in-memory cache names entities this way. */
const entityKey = ({ typename, id }: Entity) => (id === undefined ? typename : `${typename}:${id}`);

const progressOfJobs = (held: readonly Entity[]): Entity[] =>
  held.flatMap(({ typename, id }) =>
    typename === 'TrainingJob' && id !== undefined ? [{ typename: JOB_PROGRESS, id }] : [],
  );

type Selection = {
  /** The object, interface and union types it selects fields of, its root type included. */
  types: readonly string[];
  /** Whether it selects a field of a job that the job's progress changes. */
  jobProgress: boolean;
};

const selectionByDocument = new WeakMap<DocumentNode, Selection>();

function selection(schema: GraphQLSchema, document: DocumentNode): Selection {
  let found = selectionByDocument.get(document);
  if (!found) {
    const typeInfo = new TypeInfo(schema);
    const job = schema.getType('TrainingJob');
    // a field of a job, or of an interface or union a job is one of (`node`)
    const onJob = (type: GraphQLNamedType | null | undefined) =>
      type === job || (isAbstractType(type) && isObjectType(job) && schema.isSubType(type, job));
    const names = new Set<string>();
    let jobProgress = false;
    visit(
      document,
      visitWithTypeInfo(typeInfo, {
        SelectionSet: () => {
          const type = typeInfo.getParentType();
          if (type) names.add(type.name);
        },
        Field: (field) => {
          if (onJob(typeInfo.getParentType()) && !FIELDS_STEADY_WITH_STATUS.has(field.name.value))
            jobProgress = true;
        },
      }),
    );
    found = { types: [...names], jobProgress };
    selectionByDocument.set(document, found);
  }
  return found;
}

/** A result's key (and the ETag of its answers): the role, then the operation as yoga reads it. */
const keyOf = (
  role: string | null | undefined,
  operationName: string | null | undefined,
  documentString: string,
  variables: unknown,
) => responseCacheKey([role, operationName, documentString, variables]);

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
