import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection';
import { useGraphQLSSE } from '@graphql-yoga/plugin-graphql-sse';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { createFetch } from '@whatwg-node/fetch';
import { createYoga, useReadinessCheck } from 'graphql-yoga';
import { authenticate } from './auth/request-auth.ts';
import type { TokenStore } from './auth/tokens.ts';
import { type AppConfig, loadConfig, type RunnerConfig } from './config.ts';
import { createDatasetService } from './dataset/service.ts';
import type { Database } from './db/client.ts';
import { EventBus } from './events/bus.ts';
import { startPgRelay } from './events/pg-relay.ts';
import type { AppTopics } from './events/topics.ts';
import { CachedAnswers } from './http/cached-answers.ts';
import { corsFor } from './http/cors.ts';
import { useDashboard } from './http/dashboard.ts';
import { GRAPHQL_ENDPOINT, SSE_ENDPOINT } from './http/endpoints.ts';
import { REQUEST_ID_HEADER, requestIdOf, requestRecordOf } from './http/request-log.ts';
import { type NodeServerContext, useEventStreamLimits } from './http/sse/event-stream-limits.ts';
import { LIBRARY_KEEPALIVE_MS, useEventStreams } from './http/sse/event-streams.ts';
import { SseFanout } from './http/sse/fanout.ts';
import { FastSetup } from './http/sse/fast-setup.ts';
import { KnownSubscriptions } from './http/sse/known-subscriptions.ts';
import { useSubscriptionErrorResults } from './http/sse/subscription-errors.ts';
import type { Logger } from './logger.ts';
import { createOcrService } from './ocr/service.ts';
import { createTesseractEngine } from './ocr/tesseract-engine.ts';
import { createMaskError, useContractErrorCodes } from './plugins/contract-errors.ts';
import { AppMetrics } from './plugins/metrics.ts';
import { useMetrics } from './plugins/metrics-endpoint.ts';
import { useOperationLimits } from './plugins/operation-limits.ts';
import { createPersistedDocuments } from './plugins/persisted/documents.ts';
import { useOperationNames } from './plugins/request-log.ts';
import { createTrainingResponseCache } from './plugins/response-cache.ts';
import { createSharedSubscriptionResults } from './plugins/shared-subscription-results.ts';
import type { GraphQLContext } from './schema/context.ts';
import { schema } from './schema/index.ts';
import { Loaders } from './schema/loaders.ts';
import { getJob } from './training/jobs.ts';
import { createModelPredictor } from './training/predict/model-predictor.ts';
import { chooseTrainer, startRunner } from './training/runner/index.ts';
import { createTrainingService } from './training/service.ts';

export type AppSettings = Pick<
  AppConfig,
  | 'limits'
  | 'introspection'
  | 'production'
  | 'responseCacheTtlMs'
  | 'sseKeepAliveMs'
  | 'sseFastPath'
  | 'progressMaxEventsPerSecond'
  | 'ocrWorkers'
  | 'ocrMaxImageBytes'
  | 'ocrMaxImagePixels'
  | 'metricsToken'
  | 'corsOrigins'
  | 'runner'
  | 'predict'
  | 'wsInitTimeoutMs'
  | 'persistedDocuments'
>;

export type AppOptions = {
  database: Database;
  logger: Logger;
  /** Known tokens, or 'disabled' to treat every request as admin (AUTH_DISABLED). */
  tokens: TokenStore | 'disabled';
  /** Limits and switches; the environment's defaults when left out. */
  settings?: AppSettings;
};

const EXAMPLE_QUERY = `# Paste your token into Headers below: {"Authorization": "Bearer <token>"}
query Overview {
  trainingStatus { isTraining totalJobs queuedJobs completedJobs modelVersions activeModels }
  trainingJobs(first: 5) {
    edges { node { id name status progress loss learningRate createdAt } }
  }
}
`;

/** Browsers cannot send these cross-site without a preflight, so their presence proves intent. */
const CSRF_SAFE_HEADERS = [
  'authorization',
  'apollo-require-preflight',
  'x-apollo-operation-name',
  'x-graphql-yoga-csrf',
];

/** The whole HTTP application, without listening: tests call `yoga.fetch`, main.ts serves it. */
export function createApp({ database, logger, tokens, settings = loadConfig({}) }: AppOptions) {
  const { limits } = settings;
  const events = new EventBus<AppTopics>();
  const predictor = createModelPredictor(settings.predict, {
    trainerCommand: settings.runner.trainerCommand,
    logger,
  });
  const training = createTrainingService(database.db, events, {
    progressMaxEventsPerSecond: settings.progressMaxEventsPerSecond,
    trainer: chooseTrainer(settings.runner, logger),
    predictor,
  });
  const dataset = createDatasetService(database.db, events);
  const ocr = createOcrService({
    db: database.db,
    events,
    logger,
    engine: createTesseractEngine({ workers: settings.ocrWorkers }),
    maxImageBytes: settings.ocrMaxImageBytes,
    maxImagePixels: settings.ocrMaxImagePixels,
  });

  const persistedDocuments = createPersistedDocuments(settings.persistedDocuments);
  const maskError = createMaskError(logger);
  const fanout = new SseFanout({
    keepAliveMs: Math.min(settings.sseKeepAliveMs, LIBRARY_KEEPALIVE_MS),
    maxBacklogBytes: limits.maxStreamBacklogBytes,
    maskError,
    logger,
  });
  const metrics = new AppMetrics({ training, dataset, ocr, fanout });
  const cors = corsFor(settings.corsOrigins);
  const known = new KnownSubscriptions();
  const responseCache = createTrainingResponseCache(events, tokens, settings.responseCacheTtlMs);
  // with no cache (RESPONSE_CACHE_TTL_MS=0) it would have nothing to send
  const cachedAnswers =
    settings.responseCacheTtlMs > 0
      ? new CachedAnswers({ tokens, answerOf: responseCache.answerOf, logger })
      : null;

  /**
   * What the app adds to yoga's initial context, which becomes the context (yoga copies this into
   * it): the request's logger is defined on it first, and the rest comes from here.
   */
  const contextOf = (initial: { request: Request } & NodeServerContext) => {
    defineRequestLogger(initial, logger);
    const rest: Omit<GraphQLContext, 'log'> = {
      request: initial.request,
      auth: authenticate(initial.request, tokens),
      training,
      dataset,
      ocr,
      loaders: new Loaders(training),
      limits,
    };
    return rest;
  };
  const shared = createSharedSubscriptionResults(settings.sseFastPath ? { fanout, known } : null);

  const yoga = createYoga<Record<string, unknown>, GraphQLContext>({
    schema,
    graphqlEndpoint: GRAPHQL_ENDPOINT,
    healthCheckEndpoint: '/health',
    landingPage: false,
    renderGraphiQL,
    graphiql: {
      title: 'Training jobs API',
      defaultQuery: EXAMPLE_QUERY,
      subscriptionsProtocol: 'GRAPHQL_SSE',
    },
    maskedErrors: { maskError, isDev: false },
    // Request sizes are limited where node:http receives them (http/body-limits.ts), for every
    // endpoint; yoga's own 25 MB check would be a second, different rule for some of them.
    maxRequestBodySize: false,
    fetchAPI: createFetch({
      formDataLimits: {
        fileSize: limits.maxUploadFileBytes,
        files: limits.maxUploadFiles,
        fieldSize: limits.maxBodyBytes,
      },
    }),
    logging: yogaLogger(logger),
    cors,
    context: (initial: { request: Request } & NodeServerContext) =>
      contextOf(initial) as GraphQLContext,
    plugins: [
      useMetrics({ metrics, tokens, metricsToken: settings.metricsToken }),
      useOperationNames(),
      useDashboard({ logger }),
      useCSRFPrevention({ requestHeaders: CSRF_SAFE_HEADERS }),
      useOperationLimits(limits),
      useContractErrorCodes(),
      // before the response cache, which reads the document's text
      ...persistedDocuments.plugins,
      ...(settings.introspection ? [] : [useDisableIntrospection()]),
      responseCache.plugin,
      ...(cachedAnswers ? [cachedAnswers.plugin] : []),
      useGraphQLSSE({ endpoint: SSE_ENDPOINT }),
      useSubscriptionErrorResults(),
      shared.plugin,
      useEventStreamLimits(logger),
      useEventStreams({ keepAliveMs: settings.sseKeepAliveMs }),
      // yoga.dispose() (server shutdown, tests) stops OCR processing and its workers, and the
      // model processes
      { onDispose: () => Promise.all([ocr.close(), predictor.close()]) },
      useReadinessCheck({ endpoint: '/ready', check: () => database.isReady() }),
    ],
  });

  // limits and tokens also serve node:http's checks before yoga, and with persistedDocuments and
  // webSocket its graphql-ws; fastSetup sets streams up before yoga (http/listener.ts)
  return {
    yoga,
    fastSetup: settings.sseFastPath
      ? new FastSetup({
          yoga,
          schema,
          contextOf,
          subscribe: shared.subscribe,
          registry: metrics.registry,
          encode: fanout.encode,
          cors,
          known,
          logger,
        })
      : null,
    cachedAnswers,
    events,
    training,
    predictor,
    dataset,
    ocr,
    fanout,
    metrics,
    limits,
    tokens,
    persistedDocuments,
    webSocket: { initTimeoutMs: settings.wsInitTimeoutMs },
  };
}

export type App = ReturnType<typeof createApp>;

/**
 * Gives the context being built (yoga's initial context, which becomes the context) its `log`:
 * the request's own logger (http/request-log.ts), or with yoga.fetch one for the caller's id.
 * A getter made on first use, as most requests log nothing: yoga copies what the context
 * function returns into the context, which would read a getter there at once.
 */
function defineRequestLogger(
  initial: { request: Request } & NodeServerContext,
  logger: Logger,
): void {
  let log: Logger | undefined;
  Object.defineProperty(initial, 'log', {
    configurable: true,
    enumerable: true,
    get: () => {
      log ??=
        requestRecordOf(initial.req)?.log ??
        logger.child({ requestId: requestIdOf(initial.request.headers.get(REQUEST_ID_HEADER)) });
      return log;
    },
  });
}

export type BackgroundWork = {
  /** Starts this process's training runner (RUNNER_* settings) once `after` settled. */
  startRunner(config: RunnerConfig, after: Promise<void>): void;
  /** Stops the runner and the relay, then the app (OCR processing and its workers). */
  stop(): Promise<void>;
};

/**
 * What runs beside the requests: OCR batches a previous process left unfinished are resumed,
 * processes on one PostgreSQL share their events through the relay (PGlite is one process, so
 * memory suffices), and the runner trains.
 */
export async function startBackgroundWork(
  app: App,
  { database, logger }: Pick<AppOptions, 'database' | 'logger'>,
): Promise<BackgroundWork> {
  await app.ocr.resumeUnfinished();
  const relay = database.sql
    ? await startPgRelay({
        sql: database.sql,
        events: app.events,
        readJob: (id) => getJob(database.db, id),
        logger,
      })
    : undefined;
  if (relay) app.metrics.watchRelay(relay);
  let runner: Promise<{ stop(): Promise<void> } | null> = Promise.resolve(null);
  return {
    startRunner(config, after) {
      runner = after.then(() => {
        const started = startRunner(config, {
          db: database.db,
          events: app.events,
          logger,
          predictor: app.predictor,
        });
        if (started) app.metrics.watchRunner(started);
        return started;
      });
    },
    async stop() {
      await (await runner)?.stop();
      await relay?.stop();
      await app.yoga.dispose();
    },
  };
}

/**
 * yoga's log calls, forwarded to pino with their objects kept as objects (an error as `err`, so
 * that its stack and fields stay) and the strings as the message; levels pino would drop cost
 * nothing.
 */
function yogaLogger(logger: Logger) {
  const forward = (level: 'debug' | 'info' | 'warn' | 'error') =>
    logger.isLevelEnabled(level)
      ? (...args: unknown[]) => {
          const fields: Record<string, unknown> = {};
          const words: string[] = [];
          for (const arg of args) {
            if (arg instanceof Error) fields.err = arg;
            else if (typeof arg === 'object' && arg !== null) Object.assign(fields, arg);
            else words.push(String(arg));
          }
          logger[level](fields, words.join(' '));
        }
      : () => {};
  return {
    debug: forward('debug'),
    info: forward('info'),
    warn: forward('warn'),
    error: forward('error'),
  };
}
