import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { limitEventStreams, type StreamLimits } from '../../src/http/stream-limits.ts';
import type { TestApp } from './app.ts';

export type ServedApp = {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  streams: ReturnType<typeof limitEventStreams>;
  close(): Promise<void>;
};

/** Serves `app` over real HTTP as server.ts does (event-stream limits included). */
export async function serveApp(
  app: TestApp,
  limits: StreamLimits = {
    maxStreamsPerToken: 10_000,
    maxStreams: 10_000,
    maxStreamBacklogBytes: 1024 * 1024,
  },
): Promise<ServedApp> {
  const streams = limitEventStreams(app.yoga, limits, pino({ level: 'silent' }));
  const server = createServer(streams);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    streams,
    async close() {
      streams.closeStreams();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
