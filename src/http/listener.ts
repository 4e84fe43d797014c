import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { App } from '../app.ts';
import type { Logger } from '../logger.ts';
import { admitBody } from './body-limits.ts';
import { IdentifiedResponse, logRequest } from './request-log.ts';
import {
  admitEventStream,
  admitReservation,
  type NodeServerContext,
} from './sse/event-stream-limits.ts';
import { markListeners } from './sse/listener-marks.ts';
import { StreamLimiter, type StreamLimits } from './sse/stream-limits.ts';
import { createGraphQLWs, type GraphQLWs } from './ws/graphql-ws.ts';

export type HttpServer = { server: Server; streams: StreamLimiter; webSockets: GraphQLWs };

/**
 * The node:http server of an app: every request passes the body limits (body-limits.ts) and the
 * stream limits (sse/event-stream-limits.ts) before yoga sees it, and reaches yoga with the server's
 * StreamLimiter in its server context, for the streams that only yoga can tell apart; streams of
 * known subscriptions are set up without yoga's HTTP layer (sse/fast-setup.ts), and so are
 * answers from the response cache (cached-answers.ts). `Expect: 100-continue` requests are checked
 * before the client is told to send its body. Each request gets its id and access-log line
 * first (request-log.ts). WebSocket upgrades go to graphql-ws (ws/graphql-ws.ts), whose
 * subscriptions count against the same StreamLimiter and whose messages are limited to
 * MAX_BODY_BYTES, as request bodies are.
 */
export function createHttpServer(
  app: Pick<
    App,
    | 'yoga'
    | 'fastSetup'
    | 'cachedAnswers'
    | 'limits'
    | 'tokens'
    | 'metrics'
    | 'persistedDocuments'
    | 'webSocket'
  >,
  { logger, streamLimits = app.limits }: { logger: Logger; streamLimits?: StreamLimits },
): HttpServer {
  const streams = new StreamLimiter(streamLimits);
  app.metrics.watchStreams(streams);
  const context: NodeServerContext = { streams };
  const bodies = { limits: app.limits, tokens: app.tokens, logger };
  const admit = (req: IncomingMessage, res: ServerResponse) =>
    admitBody(req, res, bodies) &&
    admitReservation(req, res, streams, app.tokens) &&
    admitEventStream(req, res, streams);
  const toYoga = (req: IncomingMessage, res: ServerResponse) => {
    // What the app adds from here on can be dropped when the fast path takes a stream over.
    if (req.headers.accept?.includes('text/event-stream')) {
      markListeners(req);
      markListeners(res);
    }
    app.yoga(req, res, context);
  };
  const { fastSetup, cachedAnswers } = app;
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    if (fastSetup?.wants(req)) fastSetup.serve(req, res, context, () => toYoga(req, res));
    else if (cachedAnswers?.wants(req)) cachedAnswers.serve(req, res, () => toYoga(req, res));
    else toYoga(req, res);
  };
  const server = createServer({ ServerResponse: IdentifiedResponse }, (req, res) => {
    logRequest(req, res, logger);
    if (admit(req, res)) handle(req, res);
  });
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    logRequest(req, res, logger);
    if (!admit(req, res)) return;
    res.writeContinue();
    handle(req, res);
  });
  const webSockets = createGraphQLWs(app, {
    streams,
    maxPayloadBytes: app.limits.maxBodyBytes,
    initTimeoutMs: app.webSocket.initTimeoutMs,
    logger,
  });
  server.on('upgrade', webSockets.upgrade);
  return { server, streams, webSockets };
}
