import { useGraphQLSSE } from '@graphql-yoga/plugin-graphql-sse';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { createYoga, useReadinessCheck } from 'graphql-yoga';
import { authenticate } from './auth/context.ts';
import type { TokenStore } from './auth/tokens.ts';
import type { Database } from './db/client.ts';
import { EventBus } from './events/bus.ts';
import type { AppTopics } from './events/topics.ts';
import { LIBRARY_KEEPALIVE_MS, useEventStreams } from './http/event-streams.ts';
import { useSubscriptionErrorResults } from './http/subscription-errors.ts';
import type { Logger } from './logger.ts';
import type { GraphQLContext } from './schema/context.ts';
import { createMaskError } from './schema/errors.ts';
import { schema } from './schema/index.ts';
import { Loaders } from './schema/loaders.ts';
import { useTrainingResponseCache } from './schema/response-cache.ts';
import { useSharedSubscriptionResults } from './schema/shared-subscription-results.ts';
import { createTrainingService } from './training/service.ts';

export type AppOptions = {
  database: Database;
  logger: Logger;
  /** Known tokens, or 'disabled' to treat every request as admin (AUTH_DISABLED). */
  tokens: TokenStore | 'disabled';
  /** How long a cached query result may be served; 0 turns the response cache off. */
  responseCacheTtlMs?: number;
  /** The longest silence on an event stream (SSE_KEEPALIVE_MS). */
  sseKeepAliveMs?: number;
  /** The most progress updates per second one subscriber gets for one job. */
  progressMaxEventsPerSecond?: number;
};

const EXAMPLE_QUERY = `# Paste your token into Headers below: {"Authorization": "Bearer <token>"}
query Overview {
  trainingStatus { isTraining totalJobs queuedJobs completedJobs modelVersions activeModels }
  trainingJobs(first: 5) {
    edges { node { id name status progress loss learningRate createdAt } }
  }
}
`;

/** The whole HTTP application, without listening: tests call `yoga.fetch`, main.ts serves it. */
export function createApp({
  database,
  logger,
  tokens,
  responseCacheTtlMs = 1000,
  sseKeepAliveMs = LIBRARY_KEEPALIVE_MS,
  progressMaxEventsPerSecond = 4,
}: AppOptions) {
  const events = new EventBus<AppTopics>();
  const training = createTrainingService(database.db, events, { progressMaxEventsPerSecond });

  const yoga = createYoga<Record<string, unknown>, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/health',
    landingPage: false,
    renderGraphiQL,
    // GraphiQL runs subscriptions over graphql-sse (/graphql/stream), from the bundled client.
    graphiql: {
      title: 'Training jobs API',
      defaultQuery: EXAMPLE_QUERY,
      subscriptionsProtocol: 'GRAPHQL_SSE',
    },
    maskedErrors: { maskError: createMaskError(logger) },
    logging: {
      debug: (...args) => logger.debug(args.map(String).join(' ')),
      info: (...args) => logger.info(args.map(String).join(' ')),
      warn: (...args) => logger.warn(args.map(String).join(' ')),
      error: (...args) => logger.error(args.map(String).join(' ')),
    },
    context: ({ request }) => ({
      request,
      auth: authenticate(request, tokens),
      db: database.db,
      training,
      loaders: new Loaders(database.db),
    }),
    plugins: [
      useGraphQLSSE({ endpoint: '/graphql/stream' }),
      useSubscriptionErrorResults(),
      useSharedSubscriptionResults(),
      useEventStreams({ keepAliveMs: sseKeepAliveMs }),
      useTrainingResponseCache(events, tokens, responseCacheTtlMs),
      useReadinessCheck({
        endpoint: '/ready',
        check: () => database.isReady(),
      }),
    ],
  });

  return { yoga, events, training };
}

export type App = ReturnType<typeof createApp>;
