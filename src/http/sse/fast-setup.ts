import type { IncomingMessage, ServerResponse } from 'node:http';
import { getCORSHeadersByRequestAndOptions } from '@whatwg-node/server';
import type { ExecutionResult } from 'graphql';
import { TOKEN_HEADER_KEY } from 'graphql-sse';
import { type CORSOptions, isAsyncIterable, type YogaServerInstance } from 'graphql-yoga';
import type { Logger } from '../../logger.ts';
import type { GraphQLContext } from '../../schema/context.ts';
import { SSE_ENDPOINT } from '../endpoints.ts';
import { type JsonParams, paramsOf, readBody } from '../json-params.ts';
import { requestRecordOf } from '../request-log.ts';
import { type NodeServerContext, servingStream } from './event-stream-limits.ts';
import { EVENT_STREAM_HEADERS } from './event-streams.ts';
import {
  GRAPHQL_SSE_COMPLETE,
  GRAPHQL_SSE_HEADERS,
  GRAPHQL_SSE_OPENING,
  graphqlSseNext,
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
  yoga: YogaServerInstance<Record<string, unknown>, GraphQLContext>;
  /** The app's CORS rule (http/cors.ts), as yoga is given it. */
  cors: (request: Request) => CORSOptions;
  known: KnownSubscriptions;
  logger: Logger;
};

/**
 * Sets up graphql-sse's distinct-connection streams (`POST /graphql/stream`, `Accept:
 * text/event-stream`) of known subscriptions (known-subscriptions.ts) without yoga's HTTP layer,
 * web streams and graphql-sse's handler, which cost most of a stream's set-up: it does what
 * @graphql-yoga/plugin-graphql-sse does with a request (yoga's envelop: parse, which yoga caches,
 * the context, subscribe, so that every plugin's rule applies as on the library's path) except
 * validating a text that passed before, then writes the headers and the first result as the
 * libraries would, and the stream goes on the fast path (fanout.ts) from its first update, as
 * any does. Everything else, and every request it cannot tell apart before subscribing, goes to
 * yoga (`fallBack`): other methods and modes, unknown texts, other bodies. A text's streams that
 * come while its first one is on its way through yoga wait for it to become known (see
 * known-subscriptions.ts), as a reconnecting crowd's do.
 */
export class FastSetup {
  /**
   * Streams set up here, and those that waited for the first stream of their text (tests check
   * which path served a request).
   */
  readonly counts = { served: 0, waited: 0 };

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
        if (known.has(query, operationName))
          return this.#subscribe(req, res, server, params, toYoga);
        const verdict = known.trialOf(query, operationName);
        if (verdict) {
          this.counts.waited += 1;
          return verdict.then((isKnown) => {
            if (res.destroyed) return;
            if (!isKnown) return toYoga();
            return this.#subscribe(req, res, server, params, toYoga);
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
    toYoga: () => void,
  ): Promise<void> {
    const { yoga } = this.options;
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
    const enveloped = yoga.getEnveloped({ ...server, req, res, request, params });
    let result: ExecutionResult | AsyncIterable<ExecutionResult>;
    let first: IteratorResult<ExecutionResult> | undefined;
    let iterator: AsyncIterator<ExecutionResult> | undefined;
    try {
      const document = enveloped.parse(params.query);
      result = await enveloped.subscribe({
        schema: enveloped.schema,
        document,
        contextValue: await enveloped.contextFactory(),
        variableValues: params.variables,
        operationName: params.operationName,
      });
      if (isAsyncIterable(result)) {
        iterator = result[Symbol.asyncIterator]();
        first = await iterator.next();
      }
    } catch {
      // yoga answers what failed here as it would have (nothing was written yet)
      await iterator?.return?.();
      notTakenOver(res);
      res.off('close', abort);
      return toYoga();
    }
    this.#open(req, res, request);
    this.counts.served += 1;
    if (!iterator || !first) {
      notTakenOver(res);
      this.#next(req, res, result as ExecutionResult);
      res.end(GRAPHQL_SSE_COMPLETE);
      return;
    }
    for (let next = first; !next.done; next = await iterator.next()) {
      this.#next(req, res, next.value);
    }
    // taken over by the fast path (the library's iterator ends at the hand-over), or ended
    res.off('close', abort);
    if (notTakenOver(res)) res.end(GRAPHQL_SSE_COMPLETE);
  }

  /** The headers as graphql-sse and yoga send them (yoga adds CORS and ours), and the opening. */
  #open(req: IncomingMessage, res: ServerResponse, request: Request): void {
    const cors = getCORSHeadersByRequestAndOptions(request, this.options.cors(request));
    const headers: Record<string, string> = { ...GRAPHQL_SSE_HEADERS };
    for (const [name, value] of Object.entries(cors ?? {})) headers[name.toLowerCase()] = value;
    Object.assign(headers, EVENT_STREAM_HEADERS);
    // what @whatwg-node/server does to the socket of every response it sends
    req.socket.setTimeout(0);
    req.socket.setNoDelay(true);
    req.socket.setKeepAlive(true);
    servingStream(res);
    const record = requestRecordOf(req);
    if (record) record.events = 0;
    res.writeHead(200, headers);
    res.write(GRAPHQL_SSE_OPENING);
  }

  #next(req: IncomingMessage, res: ServerResponse, result: ExecutionResult): void {
    res.write(graphqlSseNext(result));
    const record = requestRecordOf(req);
    if (record) record.events = (record.events ?? 0) + 1;
  }
}
