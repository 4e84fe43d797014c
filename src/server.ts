import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, startBackgroundWork } from './app.ts';
import { setUpAuth } from './auth/token-setup.ts';
import type { AppConfig } from './config.ts';
import type { DatasetService } from './dataset/service.ts';
import { openConfiguredDatabase } from './db/open.ts';
import { createHttpServer } from './http/listener.ts';
import type { Logger } from './logger.ts';

export type RunningServer = {
  url: string;
  /** Settles once the demo corpus is loaded, or found not needed (it loads after listening). */
  demoData: Promise<void>;
  /** Stops accepting, lets in-flight requests finish (up to the timeout), closes the database. */
  stop(): Promise<void>;
};

/** Opens the database, builds the app (app.ts) and listens; stops it all again. */
export async function startServer(config: AppConfig, logger: Logger): Promise<RunningServer> {
  const started = performance.now();
  const publicUrl = `http://${config.host}:${config.port}/graphql`;
  // Before the database opens: a bad token list is refused without touching the data folder.
  const tokens = setUpAuth(config, logger, publicUrl);
  const database = await openConfiguredDatabase(config);
  const app = createApp({ database, logger, tokens, settings: config });
  app.metrics.collectProcessMetrics();
  const background = await startBackgroundWork(app, { database, logger });

  const { server, streams, webSockets } = createHttpServer(app, { logger });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, resolve);
    });
  } catch (error) {
    // A start that fails (the port taken, say) lets go of the database, so the process can end.
    await background.stop();
    await database.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host}:${port}/graphql`;
  logger.info(
    { url, database: database.kind, startupMs: Math.round(performance.now() - started) },
    'ready',
  );
  // After listening, so that /health and /ready answer at once while the corpus loads.
  const demoData = config.demoData ? loadDemoData(app.dataset, logger) : Promise.resolve();
  // The runner waits for the demo corpus, so that no job fixes its data set half-loaded.
  background.startRunner(config.runner, demoData);

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      const closeStreams = () => {
        streams.closeAll();
        return webSockets.close(config.shutdownTimeoutMs);
      };
      await closeGracefully(server, closeStreams, config.shutdownTimeoutMs, logger);
      await background.stop();
      await database.close();
      logger.info('stopped');
    })();
    return stopping;
  };
  return { url, demoData, stop };
}

/** Loads the synthetic demo corpus into an empty database; a failure is logged, not fatal. */
async function loadDemoData(dataset: DatasetService, logger: Logger): Promise<void> {
  const started = performance.now();
  try {
    const result = await dataset.loadDemoCorpus();
    const ms = Math.round(performance.now() - started);
    if (result) logger.info({ added: result.added, ms }, 'demo data: loaded the synthetic corpus');
    else logger.info('demo data: documents already stored, nothing loaded');
  } catch (error) {
    logger.error({ err: error }, 'demo data: loading failed');
  }
}

async function closeGracefully(
  server: Server,
  closeStreams: () => Promise<void>,
  timeoutMs: number,
  logger: Logger,
): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => {
    logger.warn({ timeoutMs }, 'in-flight requests did not finish in time; closing them');
    server.closeAllConnections();
  }, timeoutMs);
  // Event streams and WebSockets never end on their own: cut them (WebSockets with 1001, going
  // away), and their clients reconnect (elsewhere).
  await closeStreams();
  await closed;
  clearTimeout(timer);
}
