import { useGraphQLSSE } from '@graphql-yoga/plugin-graphql-sse';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { createYoga, useReadinessCheck } from 'graphql-yoga';
import { authenticate } from './auth/context.ts';
import type { TokenStore } from './auth/tokens.ts';
import type { Database } from './db/client.ts';
import { EventBus } from './events/bus.ts';
import type { AppTopics } from './events/topics.ts';
import type { Logger } from './logger.ts';
import { DEFAULT_MAX_IMAGE_BYTES, DEFAULT_OCR_WORKERS } from './ocr/constants.ts';
import { createOcrService } from './ocr/service.ts';
import { createTesseractEngine } from './ocr/tesseract-engine.ts';
import type { GraphQLContext } from './schema/context.ts';
import { createMaskError } from './schema/errors.ts';
import { schema } from './schema/index.ts';
import { createLoaders } from './schema/loaders.ts';
import { useSubscriptionErrorsOverSSE } from './subscription-errors.ts';
import { createTrainingService } from './training/service.ts';

export type AppOptions = {
  database: Database;
  logger: Logger;
  /** Known tokens, or 'disabled' to treat every request as admin (AUTH_DISABLED). */
  tokens: TokenStore | 'disabled';
  ocr?: {
    /** tesseract.js workers (threads), started on first use. Default: one per core. */
    workers?: number;
    /** Largest image accepted by createOcrBatch. Default: 20 MiB. */
    maxImageBytes?: number;
  };
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
export function createApp({ database, logger, tokens, ocr: ocrOptions = {} }: AppOptions) {
  const events = new EventBus<AppTopics>();
  const training = createTrainingService(database.db, events);
  const ocr = createOcrService({
    db: database.db,
    events,
    logger,
    engine: createTesseractEngine({ workers: ocrOptions.workers ?? DEFAULT_OCR_WORKERS }),
    maxImageBytes: ocrOptions.maxImageBytes ?? DEFAULT_MAX_IMAGE_BYTES,
  });

  const yoga = createYoga<Record<string, unknown>, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/health',
    landingPage: false,
    renderGraphiQL,
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
      auth: authenticate(request, tokens),
      db: database.db,
      training,
      ocr,
      loaders: createLoaders(database.db),
    }),
    plugins: [
      useGraphQLSSE(),
      useSubscriptionErrorsOverSSE(),
      // yoga.dispose() (server shutdown, tests) stops OCR processing and its workers
      { onDispose: () => ocr.close() },
      useReadinessCheck({
        endpoint: '/ready',
        check: async () => {
          await database.ping();
          return true;
        },
      }),
    ],
  });

  return { yoga, events, training, ocr };
}

export type App = ReturnType<typeof createApp>;
