import type { IncomingMessage, ServerResponse } from 'node:http';
import { getCORSHeadersByRequestAndOptions } from '@whatwg-node/server';
import type { DocumentNode, ExecutionResult, GraphQLSchema } from 'graphql';
import { TOKEN_HEADER_KEY } from 'graphql-sse';
import { type CORSOptions, isAsyncIterable, type YogaServerInstance } from 'graphql-yoga';
import type { Registry } from 'prom-client';
import type { Logger } from '../../logger.ts';
import { countSubscription } from '../../plugins/metrics-endpoint.ts';
import { operationNameOf } from '../../plugins/request-log.ts';
import type { SubscribeShared } from '../../plugins/shared-subscription-results.ts';
import type { GraphQLContext } from '../../schema/context.ts';
import { SSE_ENDPOINT } from '../endpoints.ts';
import { type JsonParams, paramsOf, readBody } from '../json-params.ts';
import { noteOperationName, requestRecordOf } from '../request-log.ts';
import { type NodeServerContext, servingStream } from './event-stream-limits.ts';
import { EVENT_STREAM_HEADERS } from './event-streams.ts';
import {
  GRAPHQL_SSE_COMPLETE,
  GRAPHQL_SSE_HEADERS,
  GRAPHQL_SSE_OPENING,
  notTakenOver,
  openedByFastSetup,
} from './hand-over.ts';
import type { KnownSubscriptions } from './known-subscriptions.ts';

/**
 * How long the streams of a new text wait for the first one's verdict at most: it takes a read
 * of the database, which a burst of thousands delays (then they take the libraries' way).
 */
const TRIAL_TIMEOUT_MS = 5000;

export type FastSetupOptions = {
  /** yoga, for its fetch API's Request (a resolver's context has one, as on yoga's path). */
  yoga: YogaServerInstance<Record<string, unknown>, GraphQLContext>;
  schema: GraphQLSchema;
  /**
   * What the app adds to yoga's context (app.ts), given yoga's initial context; it defines the
   * context's `log` on that one.
   */
  contextOf: (initial: InitialContext) => Omit<GraphQLContext, 'log'>;
  /** graphql's subscribe with the results shared (plugins/shared-subscription-results.ts). */
  subscribe: SubscribeShared;
  /** The app's Prometheus registry, which yoga's plugin counts operations in. */
  registry: Registry;
  /** A result's SSE message, its errors masked, as yoga writes it (the fan-out's). */
  encode: (result: ExecutionResult) => Buffer;
  /** The app's CORS rule (http/cors.ts), as yoga is given it. */
  cors: (request: Request) => CORSOptions;
  known: KnownSubscriptions;
  logger: Logger;
};

/** yoga's context before the app's part: the server's, the request and its parameters. */
type InitialContext = NodeServerContext & {
  req: IncomingMessage;
  res: ServerResponse;
  request: Request;
  params: JsonParams;
};

/**
 * Sets up graphql-sse's distinct-connection streams (`POST /graphql/stream`, `Accept:
 * text/event-stream`) of known subscriptions (known-subscriptions.ts) without yoga, envelop and
 * graphql-sse, which cost most of a stream's set-up. It does what they would do with such a
 * request, and what the app's plugins do with it on the way:
 * - the document is the one the subscription's first stream was parsed to, which passed
 *   validation, the operation limits and the trusted-documents check (the text alone decides);
 * - the context is yoga's (the server's, the request, its parameters) with the app's part;
 * - it subscribes with the shared results (the plugin that replaces envelop's subscribe);
 * - the access-log line gets the operation name (plugins/request-log.ts), and the Prometheus
 *   plugin's counts are kept as it keeps them (plugins/metrics-endpoint.ts);
 * - results are masked as yoga masks them (`encode`);
 * - a subscription that fails or is refused, which yoga's result hooks answer (a result without
 *   `data`, a thrown error), goes to yoga before anything was written, and yoga answers it;
 * - the headers and the first result are written as the libraries write them, and the stream
 *   goes on the fast path (fanout.ts) from its first update, as any does.
 * Other plugins' subscribe hooks have nothing to do with such a stream (the stream limits' is
 * for single-connection mode, the result processors' for yoga's HTTP answers);
 * test/subscriptions-fast-setup.test.ts checks which plugins hook subscribing, and compares
 * answers, log lines and counts with yoga's.
 *
 * Everything else goes to yoga (`fallBack`): other methods and modes, unknown texts, other
 * bodies. A text's streams that come while its first one is on its way through yoga wait for it
 * to become known (see known-subscriptions.ts), as a reconnecting crowd's do.
 */
export class FastSetup {
  /**
   * Streams set up here, and those that waited for the first stream of their text (tests check
   * which path served a request).
   */
  readonly counts = { served: 0, waited: 0 };
  /** The SSE message of each result written, while the result lives. */
  readonly #messages = new WeakMap<ExecutionResult, Buffer>();

  constructor(private readonly options: FastSetupOptions) {}

  /** Whether `req` may be a stream of this kind (its body tells the rest). */
  wants(req: IncomingMessage): boolean {
    return (
      req.method === 'POST' &&
      req.url === SSE_ENDPOINT &&
      req.headers.accept === 'text/event-stream' &&
      (req.headers['content-type']?.includes('application/json') ?? false) &&
      req.headers[TOKEN_HEADER_KEY] === undefined
    );
  }

  /** Serves `req`, or hands it to `fallBack` with its body read (as yoga takes a read body). */
  serve(
    req: IncomingMessage,
    res: ServerResponse,
    server: NodeServerContext,
    fallBack: () => void,
  ): void {
    readBody(req)
      .then((body) => {
        // the client left, or the body limits answered
        if (body === null) return;
        const toYoga = () => {
          (req as IncomingMessage & { body?: Buffer }).body = body;
          fallBack();
        };
        const params = paramsOf(body);
        if (!params) return toYoga();
        const { known } = this.options;
        const { query, operationName } = params;
        const subscribe = (document: DocumentNode | undefined) =>
          document ? this.#subscribe(req, res, server, params, document, toYoga) : toYoga();
        const document = known.documentOf(query, operationName);
        if (document) return subscribe(document);
        const verdict = known.trialOf(query, operationName);
        if (verdict) {
          this.counts.waited += 1;
          return verdict.then((isKnown) => {
            if (res.destroyed) return;
            return subscribe(isKnown ? known.documentOf(query, operationName) : undefined);
          });
        }
        this.#tryOnYoga(res, known.startTrial(query, operationName));
        return toYoga();
      })
      .catch((error: unknown) => {
        (requestRecordOf(req)?.log ?? this.options.logger).error(
          { err: error },
          'event stream set-up failed',
        );
        res.destroy();
      });
  }

  /** Gives the trial up when its stream ends without becoming known, or takes too long. */
  #tryOnYoga(res: ServerResponse, giveUp: () => void): void {
    const timer = setTimeout(giveUp, TRIAL_TIMEOUT_MS);
    timer.unref();
    const end = () => {
      clearTimeout(timer);
      giveUp();
    };
    res.once('close', end);
    res.once('finish', end);
  }

  async #subscribe(
    req: IncomingMessage,
    res: ServerResponse,
    server: NodeServerContext,
    params: JsonParams,
    document: DocumentNode,
    toYoga: () => void,
  ): Promise<void> {
    const { yoga, subscribe, schema, registry } = this.options;
    const counted = countSubscription(registry, document, params.operationName);
    // as yoga's request's, the signal aborts when the client leaves before the hand-over
    const controller = new AbortController();
    const abort = () => controller.abort();
    res.once('close', abort);
    const request = new yoga.fetchAPI.Request(
      `http://${req.headers.host ?? 'localhost'}${req.url}`,
      { method: 'POST', headers: req.headers as Record<string, string>, signal: controller.signal },
    );
    // the stream goes on the fast path from its first update (shared-subscription-results.ts)
    openedByFastSetup(res);
    const initial: InitialContext = { ...server, req, res, request, params };
    // contextOf defines the context's `log` on `initial`, as on yoga's path
    const contextValue = Object.assign(
      initial,
      this.options.contextOf(initial),
    ) as unknown as GraphQLContext;
    let iterator: AsyncIterator<ExecutionResult> | undefined;
    let first: IteratorResult<ExecutionResult> | undefined;
    try {
      const result = await subscribe({
        schema,
        document,
        contextValue,
        variableValues: params.variables,
        operationName: params.operationName,
      });
      // a result that is no stream is a refusal
      if (isAsyncIterable(result)) {
        iterator = result[Symbol.asyncIterator]();
        first = await iterator.next();
      }
    } catch {
      // failed: as a refusal, yoga answers it
    }
    if (!iterator || !first) {
      // yoga answers it as it would have, with its result hooks (nothing was written yet)
      await iterator?.return?.();
      notTakenOver(res);
      res.off('close', abort);
      return toYoga();
    }
    noteOperationName(req, () => operationNameOf(document, params.operationName));
    this.#open(req, res, request);
    this.counts.served += 1;
    for (let next = first; !next.done; next = await iterator.next()) {
      counted.result(next.value);
      this.#next(req, res, next.value);
    }
    // taken over by the fast path (the library's iterator ends at the hand-over), or ended
    counted.end();
    res.off('close', abort);
    if (notTakenOver(res)) res.end(GRAPHQL_SSE_COMPLETE);
  }

  /** The headers as graphql-sse and yoga send them (yoga adds CORS and ours), and the opening. */
  #open(req: IncomingMessage, res: ServerResponse, request: Request): void {
    const cors = getCORSHeadersByRequestAndOptions(request, this.options.cors(request));
    const headers: Record<string, string> = { ...GRAPHQL_SSE_HEADERS };
    for (const [name, value] of Object.entries(cors ?? {})) headers[name.toLowerCase()] = value;
    Object.assign(headers, EVENT_STREAM_HEADERS);
    // As @whatwg-node/server does to the socket of every response it sends, but for Nagle's
    // algorithm, which node:http's server turned off already, and TCP keep-alive: a system call
    // per stream, and the heartbeat's pings find a dead peer long before its two hours would.
    req.socket.setTimeout(0);
    servingStream(res);
    const record = requestRecordOf(req);
    if (record) record.events = 0;
    res.writeHead(200, headers);
    res.write(GRAPHQL_SSE_OPENING);
  }

  #next(req: IncomingMessage, res: ServerResponse, result: ExecutionResult): void {
    // a crowd's streams of one operation get the same first result (shared-update.ts)
    let message = this.#messages.get(result);
    if (!message) {
      message = this.options.encode(result);
      this.#messages.set(result, message);
    }
    res.write(message);
    const record = requestRecordOf(req);
    if (record) record.events = (record.events ?? 0) + 1;
  }
}
