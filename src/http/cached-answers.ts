import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Plugin } from 'graphql-yoga';
import { authOfHeader } from '../auth/request-auth.ts';
import type { Role, TokenStore } from '../auth/tokens.ts';
import type { Logger } from '../logger.ts';
import type { CachedAnswer } from '../plugins/response-cache.ts';
import { GRAPHQL_ENDPOINT } from './endpoints.ts';
import { type JsonParams, paramsOf, readBody } from './json-params.ts';
import { noteOperationName, requestRecordOf } from './request-log.ts';

/** JSON bodies only: yoga's CSRF rule never refuses them (browsers preflight them). */
const JSON_BODY = /^application\/json(;\s*charset=utf-8)?$/i;

/** Results are sent as one of these; anything else (event streams) is left to yoga. */
const JSON_ANSWER = /^application\/(graphql-response\+)?json/;

/** How many header sets are kept: a few per kind of client (Accept, Origin, Content-Type). */
const TEMPLATES = 64;

/** The headers of each answer: the cache's own (ETag, Last-Modified) and its length. */
type AnswerHeader = 'etag' | 'last-modified' | 'content-length';
const ANSWER_HEADERS = new Set<string>(['etag', 'last-modified', 'content-length']);

/** A response header as yoga sends it, or the place of one that each answer brings. */
type TemplateHeader = { name: string; value: string } | { name: string; of: AnswerHeader };

export type CachedAnswersOptions = {
  tokens: TokenStore | 'disabled';
  /** What yoga would answer from the response cache (plugins/response-cache.ts). */
  answerOf(role: Role, params: JsonParams): CachedAnswer | null;
  logger: Logger;
};

/**
 * Sends the answers of `POST /graphql` queries that yoga would send from its response cache
 * without yoga's HTTP layer, which costs most of a cached answer (a dashboard's polls, a crowd
 * reloading): the same status, headers and bytes. yoga answered the same request once:
 *
 * - the cache is keyed by role and operation (text, name, variables), so whatever yoga checks
 *   on those (trusted documents, operation limits, introspection) passed for the same key, and
 *   the answer holds nothing but the stored result (`answerOf`);
 * - yoga's headers depend on the request's Accept, Origin (CORS) and Content-Type: they are
 *   taken from one of its cached answers to a request with the same three (`plugin`) and only
 *   the answer's own are replaced.
 *
 * Anything else goes to yoga (`fallBack`): a result not cached, or not sent yet; bodies with
 * more than an operation (APQ, document ids, batches); conditional requests (If-None-Match,
 * If-Modified-Since: yoga answers 304); anonymous callers; other content types, which yoga's
 * CSRF rule may refuse.
 */
export class CachedAnswers {
  /** Answers sent here (tests check which path served a request). */
  readonly counts = { served: 0 };
  readonly #templates = new Map<string, TemplateHeader[]>();

  constructor(private readonly options: CachedAnswersOptions) {}

  /** Learns yoga's headers from its answers from the cache. */
  readonly plugin: Plugin = {
    onResponse: ({ request, response }) => {
      if (response.status !== 200 || !response.headers.has('etag')) return;
      if (!JSON_ANSWER.test(response.headers.get('content-type') ?? '')) return;
      if (request.method !== 'POST' || !request.url.endsWith(GRAPHQL_ENDPOINT)) return;
      const contentType = request.headers.get('content-type');
      if (contentType === null || !JSON_BODY.test(contentType)) return;
      const key = templateKey(
        request.headers.get('accept'),
        request.headers.get('origin'),
        contentType,
      );
      if (this.#templates.has(key)) return;
      const template: TemplateHeader[] = [];
      response.headers.forEach((value, name) => {
        const lower = name.toLowerCase();
        template.push(
          ANSWER_HEADERS.has(lower) ? { name, of: lower as AnswerHeader } : { name, value },
        );
      });
      if (!template.some((header) => 'of' in header && header.of === 'content-length'))
        template.push({ name: 'content-length', of: 'content-length' });
      if (this.#templates.size >= TEMPLATES)
        this.#templates.delete(this.#templates.keys().next().value as string);
      this.#templates.set(key, template);
    },
  };

  /** Whether `req` may be such a request (its body and the cache tell the rest). */
  wants(req: IncomingMessage): boolean {
    const { headers } = req;
    return (
      req.method === 'POST' &&
      req.url === GRAPHQL_ENDPOINT &&
      headers['if-none-match'] === undefined &&
      headers['if-modified-since'] === undefined &&
      headers['content-type'] !== undefined &&
      // a stream's slot is given back by yoga's answer (sse/event-stream-limits.ts)
      !headers.accept?.includes('text/event-stream') &&
      this.#templates.has(templateKey(headers.accept, headers.origin, headers['content-type']))
    );
  }

  /** Serves `req`, or hands it to `fallBack` with its body read (as yoga takes a read body). */
  serve(req: IncomingMessage, res: ServerResponse, fallBack: () => void): void {
    readBody(req)
      .then((body) => {
        // the client left, or the body limits answered
        if (body === null) return;
        const answered = this.#answer(req, res, body);
        if (answered) return;
        (req as IncomingMessage & { body?: Buffer }).body = body;
        fallBack();
      })
      .catch((error: unknown) => {
        (requestRecordOf(req)?.log ?? this.options.logger).error(
          { err: error },
          'cached answer failed',
        );
        res.destroy();
      });
  }

  #answer(req: IncomingMessage, res: ServerResponse, body: Buffer): boolean {
    const { headers } = req;
    const template = this.#templates.get(
      templateKey(headers.accept, headers.origin, headers['content-type']),
    );
    if (!template) return false;
    const params = paramsOf(body);
    if (!params) return false;
    const { role } = authOfHeader(headers.authorization, this.options.tokens);
    if (role === null) return false;
    const answer = this.options.answerOf(role, params);
    if (!answer) return false;

    const written: Record<string, string> = {};
    for (const header of template) {
      written[header.name] = 'value' in header ? header.value : answerHeader(answer, header.of);
    }
    noteOperationName(req, () => params.operationName);
    // what @whatwg-node/server does to the socket of every response it sends
    req.socket.setTimeout(0);
    req.socket.setNoDelay(true);
    req.socket.setKeepAlive(true);
    res.writeHead(200, written);
    res.end(answer.json);
    this.counts.served += 1;
    return true;
  }
}

const templateKey = (
  accept: string | null | undefined,
  origin: string | null | undefined,
  contentType: string | null | undefined,
) => `${accept ?? ''}\n${origin ?? ''}\n${contentType ?? ''}`;

function answerHeader(answer: CachedAnswer, header: AnswerHeader): string {
  if (header === 'etag') return answer.etag;
  if (header === 'last-modified') return answer.lastModified;
  return String(Buffer.byteLength(answer.json));
}
