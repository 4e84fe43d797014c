import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type DocumentNode, type ExecutionArgs, GraphQLError, getOperationAST } from 'graphql';
import { CloseCode, type Context } from 'graphql-ws';
import { type Extra, useServer } from 'graphql-ws/use/ws';
import { isAsyncIterable } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import type { App } from '../../app.ts';
import { accessDenied, authOfHeader } from '../../auth/request-auth.ts';
import type { Logger } from '../../logger.ts';
import { withCode } from '../../plugins/contract-errors.ts';
import { UNCACHED } from '../../plugins/response-cache.ts';
import { GRAPHQL_ENDPOINT, pathOf } from '../endpoints.ts';
import { LIBRARY_KEEPALIVE_MS } from '../sse/event-streams.ts';
import {
  isRefusal,
  refusalError,
  releasing,
  type StreamLimiter,
  type StreamSlot,
} from '../sse/stream-limits.ts';

export type GraphQLWs = {
  /** Takes over an `upgrade` of node:http's server: graphql-ws on GRAPHQL_ENDPOINT, 404 elsewhere. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /**
   * Closes every connection (1001, going away) and stops accepting new ones; a connection whose
   * client has not answered the close within `graceMs` is cut.
   */
  close(graceMs: number): Promise<void>;
};

/** One acknowledged connection: who it is, and the subscriptions that hold a stream slot. */
type Connection = {
  /** `Bearer <token>`, as an HTTP request would send it: the stream limits count per this. */
  authorization: string | undefined;
  /** What the app's context is built from (auth reads its header); aborts when the socket closes. */
  request: Request;
  gone: AbortController;
  /** Slots taken in onSubscribe, until onOperation hands them to their subscription's iterator. */
  pending: Map<string, StreamSlot>;
};

/** WebSocket's close code for a server that goes down (graphql-ws's dispose sends it too). */
const GOING_AWAY = 1001;

type Enveloped = ReturnType<App['yoga']['getEnveloped']>;
type WsContext = Context<Record<string, unknown> | undefined, Extra>;

/**
 * GraphQL over WebSocket (the graphql-ws protocol, `graphql-transport-ws`) on `/graphql`.
 * Operations run through yoga's envelop (`getEnveloped`, yoga's documented graphql-ws set-up), so
 * the app's plugins apply as on HTTP: auth in the context, operation limits, error codes and
 * masking, the response cache, trusted documents, and the shared execution of subscription
 * updates (one execution per update and operation, for all transports). A connection's token
 * comes in `connectionParams.authorization` (browsers cannot set headers on a WebSocket) or the
 * upgrade's `Authorization` header; one without a valid token is closed (4401) at
 * `connection_init`, which must come within `initTimeoutMs` (4408). Each subscription holds a
 * slot of the server's StreamLimiter (per token and in all, with the event streams) until it
 * ends, and messages are capped at `maxPayloadBytes` (1009).
 */
export function createGraphQLWs(
  app: Pick<App, 'yoga' | 'tokens' | 'persistedDocuments'>,
  options: {
    streams: StreamLimiter;
    maxPayloadBytes: number;
    initTimeoutMs: number;
    logger: Logger;
  },
): GraphQLWs {
  const { yoga, tokens, persistedDocuments } = app;
  const { streams, logger } = options;
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayloadBytes });
  const connections = new WeakMap<WsContext, Connection>();
  const envelopedOf = new WeakMap<object, Enveloped>();
  const run = (args: ExecutionArgs) => {
    const enveloped = envelopedOf.get(args.contextValue as object);
    if (!enveloped) throw new Error('graphql-ws: an operation without its envelop');
    return enveloped;
  };

  const server = useServer(
    {
      isProd: true,
      connectionInitWaitTimeout: options.initTimeoutMs,
      onConnect(ctx) {
        const authorization =
          asAuthorization(ctx.connectionParams?.authorization) ??
          ctx.extra.request.headers.authorization;
        const auth = authOfHeader(authorization, tokens);
        if (auth.role === null) {
          ctx.extra.socket.close(CloseCode.Unauthorized, accessDenied(auth).message);
          return false;
        }
        const gone = new AbortController();
        const headers: Record<string, string> = authorization ? { authorization } : {};
        // POST: yoga refuses mutations in a GET
        const request = new Request(`http://localhost${GRAPHQL_ENDPOINT}`, {
          method: 'POST',
          headers,
          signal: gone.signal,
        });
        connections.set(ctx, { authorization, request, gone, pending: new Map() });
        return true;
      },
      async onSubscribe(ctx, id, payload) {
        const connection = connections.get(ctx);
        if (!connection) return [new GraphQLError('graphql-ws: not connected')];
        let query: string;
        let document: DocumentNode;
        const enveloped = yoga.getEnveloped({
          ...UNCACHED,
          request: connection.request,
          params: payload,
        });
        try {
          query = persistedDocuments.documentOf(payload);
          document = enveloped.parse(query);
        } catch (error) {
          if (error instanceof GraphQLError) return [withCode(error)];
          throw error;
        }
        const errors = enveloped.validate(enveloped.schema, document);
        if (errors.length > 0) return errors.map(withCode);
        const contextValue = await enveloped.contextFactory();
        envelopedOf.set(contextValue, enveloped);
        if (getOperationAST(document, payload.operationName)?.operation === 'subscription') {
          const slot = streams.acquire(connection.authorization, 'graphql-ws');
          if (isRefusal(slot)) return [refusalError(slot)];
          slot.close = () => ctx.extra.socket.close(GOING_AWAY, 'Going away');
          connection.pending.set(id, slot);
        }
        return {
          schema: enveloped.schema,
          document,
          contextValue,
          variableValues: payload.variables,
          operationName: payload.operationName,
        };
      },
      execute: (args) => run(args).execute(args),
      subscribe: (args) => run(args).subscribe(args),
      onOperation(ctx, id, _payload, _args, result) {
        const connection = connections.get(ctx);
        const slot = connection?.pending.get(id);
        if (!slot) return;
        connection?.pending.delete(id);
        // graphql-ws returns the iterator when the client completes or the socket closes
        if (isAsyncIterable(result)) return releasing(result, slot);
        slot.release();
      },
      onClose(ctx) {
        const connection = connections.get(ctx);
        if (!connection) return;
        connection.gone.abort();
        for (const slot of connection.pending.values()) slot.release();
      },
    },
    wss,
    LIBRARY_KEEPALIVE_MS,
  );

  let closing: Promise<void> | undefined;
  return {
    upgrade(req, socket, head) {
      if (pathOf(req.url) !== GRAPHQL_ENDPOINT) {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        wss.emit('connection', ws, req);
        // ws closes the socket on a protocol error (a message over maxPayload: 1009) and reports
        // it here; graphql-ws would print it to the console as an error of the server's own.
        ws.removeAllListeners('error');
        ws.on('error', (error) => logger.warn({ err: error }, 'graphql-ws: closing a connection'));
      });
    },
    close(graceMs) {
      closing ??= (async () => {
        // ws waits for every client's close frame, up to its own 30 s per connection
        const cut = setTimeout(() => {
          for (const client of wss.clients) client.terminate();
        }, graceMs);
        try {
          await server.dispose();
        } finally {
          clearTimeout(cut);
        }
      })();
      return closing;
    },
  };
}

/** `connectionParams.authorization` as a header value: `Bearer <token>`, or the token alone. */
function asAuthorization(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  return /^bearer\s/i.test(value) ? value : `Bearer ${value}`;
}
