import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createApp } from './app.ts';
import { setUpAuth } from './auth/setup.ts';
import type { AppConfig } from './config.ts';
import { openDatabase } from './db/client.ts';
import { startPgRelay } from './events/pg-relay.ts';
import type { Logger } from './logger.ts';
import { getJob } from './training/jobs.ts';

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
    responseCacheTtlMs: config.responseCacheTtlMs,
    sseKeepAliveMs: config.sseKeepAliveMs,
    progressMaxEventsPerSecond: config.progressMaxEventsPerSecond,
  });
  // Processes on one PostgreSQL share their events; PGlite is one process, so memory suffices.
  const relay = database.sql
    ? await startPgRelay({
        sql: database.sql,
        events: app.events,
        readJob: (id) => getJob(database.db, id),
        logger,
      })
    : undefined;

  const server = createServer(app.yoga);
  const eventStreams = trackEventStreams(server);
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
      await closeGracefully(server, eventStreams, config.shutdownTimeoutMs, logger);
      await relay?.stop();
      await app.yoga.dispose();
      await database.close();
      logger.info('stopped');
    })();
    return stopping;
  };
  return { url, stop };
}

/** Responses to requests that asked for an event stream, while they are open. */
function trackEventStreams(server: Server): Set<ServerResponse> {
  const open = new Set<ServerResponse>();
  server.on('request', (request, response: ServerResponse) => {
    if (!request.headers.accept?.includes('text/event-stream')) return;
    open.add(response);
    response.once('close', () => open.delete(response));
  });
  return open;
}

async function closeGracefully(
  server: Server,
  eventStreams: Set<ServerResponse>,
  timeoutMs: number,
  logger: Logger,
): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  // Event streams never end on their own: cut them, and their clients reconnect (elsewhere).
  for (const response of eventStreams) response.destroy();
  const timer = setTimeout(() => {
    logger.warn({ timeoutMs }, 'in-flight requests did not finish in time; closing them');
    server.closeAllConnections();
  }, timeoutMs);
  await closed;
  clearTimeout(timer);
}
