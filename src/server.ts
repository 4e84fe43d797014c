import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createApp } from './app.ts';
import { setUpAuth } from './auth/setup.ts';
import type { AppConfig } from './config.ts';
import { openDatabase } from './db/client.ts';
import type { Logger } from './logger.ts';

export type RunningServer = {
  url: string;
  /** Stops accepting, lets in-flight requests finish (up to the timeout), closes the database. */
  stop(): Promise<void>;
};

/** Wires configuration, database, auth and the app together and starts listening. */
export async function startServer(config: AppConfig, logger: Logger): Promise<RunningServer> {
  const started = performance.now();
  const database = await openDatabase(
    config.databaseUrl
      ? { kind: 'postgres', url: config.databaseUrl }
      : { kind: 'pglite', dataDir: path.join(config.dataDir, 'pglite') },
  );
  await database.migrate();
  const publicUrl = `http://${config.host}:${config.port}/graphql`;
  const tokens = setUpAuth(config, logger, publicUrl);
  const app = createApp({
    database,
    logger,
    tokens,
    ocr: { workers: config.ocrWorkers, maxImageBytes: config.ocrMaxImageBytes },
  });
  await app.ocr.resumeUnfinished();

  const server = createServer(app.yoga);
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

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await closeGracefully(server, config.shutdownTimeoutMs, logger);
      await app.yoga.dispose();
      await database.close();
      logger.info('stopped');
    })();
    return stopping;
  };
  return { url, stop };
}

async function closeGracefully(server: Server, timeoutMs: number, logger: Logger): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => {
    logger.warn({ timeoutMs }, 'in-flight requests did not finish in time; closing them');
    server.closeAllConnections();
  }, timeoutMs);
  await closed;
  clearTimeout(timer);
}
