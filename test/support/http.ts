import { EventEmitter, once } from 'node:events';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { createHttpServer } from '../../src/http/listener.ts';
import type { StreamLimiter, StreamLimits } from '../../src/http/sse/stream-limits.ts';
import type { Logger } from '../../src/logger.ts';
import type { TestApp } from './app.ts';

export type ServedApp = {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  server: Server;
  streams: StreamLimiter;
  /**
   * The bytes the server had read from the connection of the client at `port` (headers and
   * framing included) when its first answer was out.
   */
  readBeforeAnswer(port: number): Promise<number>;
  close(): Promise<void>;
};

/**
 * Serves `app` over real HTTP as server.ts does (body and stream limits included); stream limits
 * are generous unless given, and nothing is logged unless a logger is given.
 */
export async function serveApp(
  app: TestApp,
  limits: StreamLimits = {
    maxStreamsPerToken: 10_000,
    maxStreams: 10_000,
    maxStreamBacklogBytes: 1024 * 1024,
  },
  logger: Logger = pino({ level: 'silent' }),
): Promise<ServedApp> {
  const { server, streams, webSockets } = createHttpServer(app, { logger, streamLimits: limits });
  const bytesRead = new Map<number, number>();
  const answered = new EventEmitter();
  const watch = (req: IncomingMessage, res: ServerResponse) => {
    const port = req.socket.remotePort ?? 0;
    res.once('finish', () => {
      if (bytesRead.has(port)) return;
      bytesRead.set(port, req.socket.bytesRead);
      answered.emit(String(port));
    });
  };
  server.on('request', watch);
  server.on('checkContinue', watch);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    streams,
    async readBeforeAnswer(port) {
      if (!bytesRead.has(port)) await once(answered, String(port));
      return bytesRead.get(port) ?? 0;
    },
    async close() {
      streams.closeAll();
      await webSockets.close(1_000);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
