import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app.ts';
import { setUpAuth } from './auth/token-setup.ts';
import type { AppConfig } from './config.ts';
import type { DatasetService } from './dataset/service.ts';
import { openConfiguredDatabase } from './db/open.ts';
import { startPgRelay } from './events/pg-relay.ts';
import { createHttpServer } from './http/listener.ts';
import type { Logger } from './logger.ts';
import { getJob } from './training/jobs.ts';
import { startRunner } from './training/runner/index.ts';

export type RunningServer = {
  url: string;
  /** Settles once the demo corpus is loaded, or found not needed (it loads after listening). */
  demoData: Promise<void>;
  /** Stops accepting, lets in-flight requests finish (up to the timeout), closes the database. */
  stop(): Promise<void>;
};

/** Wires configuration, database, auth and the app together and starts listening. */
export async function startServer(config: AppConfig, logger: Logger): Promise<RunningServer> {
  const started = performance.now();
  const database = await openConfiguredDatabase(config);
  const publicUrl = `http://${config.host}:${config.port}/graphql`;
  const tokens = setUpAuth(config, logger, publicUrl);
  const app = createApp({ database, logger, tokens, settings: config });
  await app.ocr.resumeUnfinished();
  // Processes on one PostgreSQL share their events; PGlite is one process, so memory suffices.
  const relay = database.sql
    ? await startPgRelay({
        sql: database.sql,
        events: app.events,
        readJob: (id) => getJob(database.db, id),
        logger,
      })
    : undefined;

  const { server, streams } = createHttpServer(app, { logger });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host}:${port}/graphql`;
  logger.info(
    { url, database: database.kind, startupMs: Math.round(performance.now() - started) },
    'ready',
  );
  // After listening, so that /health and /ready answer at once while the corpus loads.
  const demoData = config.demoData ? loadDemoData(app.dataset, logger) : Promise.resolve();
  // The runner waits for the demo corpus, so that no job fixes its data set half-loaded.
  const runner = demoData.then(() =>
    startRunner(config.runner, { db: database.db, events: app.events, logger }),
  );

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await closeGracefully(server, () => streams.closeAll(), config.shutdownTimeoutMs, logger);
      await (await runner)?.stop();
      await relay?.stop();
      await app.yoga.dispose();
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
  closeStreams: () => void,
  timeoutMs: number,
  logger: Logger,
): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  // Event streams never end on their own: cut them, and their clients reconnect (elsewhere).
  closeStreams();
  const timer = setTimeout(() => {
    logger.warn({ timeoutMs }, 'in-flight requests did not finish in time; closing them');
    server.closeAllConnections();
  }, timeoutMs);
  await closed;
  clearTimeout(timer);
}
