import { randomUUID } from 'node:crypto';
import { type IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../logger.ts';
import { pathOf } from './endpoints.ts';

export const REQUEST_ID_HEADER = 'x-request-id';

/** A caller's id is taken if it is short and harmless in a log line or a header. */
const ACCEPTABLE_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** The request id a caller sent, if acceptable, or a new one. */
export function requestIdOf(given: string | string[] | null | undefined): string {
  const id = Array.isArray(given) ? given[0] : given;
  return id && ACCEPTABLE_ID.test(id) ? id : randomUUID();
}

/**
 * What the access-log line of a request tells beyond what node:http knows. A class, not an
 * object of closures: an event stream keeps its record as long as it is open.
 */
export class RequestRecord {
  operationName?: string;
  /** Set when the response is an event stream: the updates it carried. */
  events?: number;
  readonly started = performance.now();
  readonly bytesBefore: number;
  #log: Logger | undefined;

  constructor(
    readonly id: string,
    readonly req: IncomingMessage,
    private readonly logger: Logger,
  ) {
    this.bytesBefore = req.socket.bytesWritten;
  }

  /** The request's logger: every line carries its id (made on first use; most log nothing). */
  get log(): Logger {
    this.#log ??= this.logger.child({ requestId: this.id });
    return this.#log;
  }

  /** Whether the access line is written at all (LOG_LEVEL below info). */
  get accessLogged(): boolean {
    return this.logger.isLevelEnabled('info');
  }
}

const records = new WeakMap<IncomingMessage, RequestRecord>();

export const requestRecordOf = (req: IncomingMessage | undefined) =>
  req ? records.get(req) : undefined;

/** Notes the request's operation name on its access-log line, unless it has one already. */
export function noteOperationName(
  req: IncomingMessage | undefined,
  name: () => string | null | undefined,
): void {
  const record = requestRecordOf(req);
  if (record && record.operationName === undefined) record.operationName = name() ?? undefined;
}

/**
 * node:http's response class for the server (`createServer({ ServerResponse })`): it adds the
 * request id to the headers as they are written. Setting it with `setHeader` beforehand would
 * have node copy every header of the response into a map it keeps for the response's lifetime,
 * which for an event stream is as long as it is open.
 */
export class IdentifiedResponse<
  Request extends IncomingMessage = IncomingMessage,
> extends ServerResponse<Request> {}

const writeHead = ServerResponse.prototype.writeHead as (
  this: ServerResponse,
  statusCode: number,
  ...rest: unknown[]
) => ServerResponse;

IdentifiedResponse.prototype.writeHead = function writeHeadWithId(
  this: ServerResponse,
  statusCode: number,
  ...rest: unknown[]
) {
  const id = requestRecordOf(this.req)?.id;
  if (id !== undefined && !this.headersSent && !this.hasHeader(REQUEST_ID_HEADER)) {
    const at = typeof rest[0] === 'string' ? 1 : 0;
    const headers = rest[at];
    if (headers === undefined || Array.isArray(headers)) this.setHeader(REQUEST_ID_HEADER, id);
    else rest[at] = { ...(headers as object), [REQUEST_ID_HEADER]: id };
  }
  return writeHead.call(this, statusCode, ...rest);
} as ServerResponse['writeHead'];

/** The access line of a response, when it closes (a listener shared by every response). */
function logAccess(this: ServerResponse): void {
  const record = requestRecordOf(this.req);
  if (!record?.accessLogged) return;
  const { req } = record;
  record.log.info(
    {
      method: req.method,
      path: pathOf(req.url),
      operationName: record.operationName,
      status: this.statusCode,
      durationMs: Math.round(performance.now() - record.started),
      bytes: req.socket.bytesWritten - record.bytesBefore,
      events: record.events,
    },
    'request',
  );
}

/**
 * Gives a request its id (the caller's `x-request-id` if acceptable, else a new one), on the
 * request's headers for yoga and on the response (an IdentifiedResponse writes it), and logs
 * one access line when the response closes (streams included: the line then tells how long it
 * was open and what it carried). Called before anything else hangs listeners on the response,
 * so that the fast path keeps this one when it takes a stream over (sse/listener-marks.ts).
 */
export function logRequest(req: IncomingMessage, res: ServerResponse, logger: Logger): void {
  const id = requestIdOf(req.headers[REQUEST_ID_HEADER]);
  req.headers[REQUEST_ID_HEADER] = id;
  records.set(req, new RequestRecord(id, req, logger));
  if (!(res instanceof IdentifiedResponse)) res.setHeader(REQUEST_ID_HEADER, id);
  // `on`, not `once`: a response closes once, and once() would wrap the listener per response
  res.on('close', logAccess);
}
