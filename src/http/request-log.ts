import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
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

/** What the access-log line of a request tells beyond what node:http knows. */
export type RequestRecord = {
  id: string;
  /** The request's logger: every line carries its id. */
  readonly log: Logger;
  operationName?: string;
  /** Set when the response is an event stream: the updates it carried. */
  events?: number;
};

const records = new WeakMap<IncomingMessage, RequestRecord>();

export const requestRecordOf = (req: IncomingMessage | undefined) =>
  req ? records.get(req) : undefined;

/**
 * Gives a request its id (the caller's `x-request-id` if acceptable, else a new one), on the
 * request's headers for yoga and on the response, and logs one access line when the response
 * closes (streams included: the line then tells how long it was open and what it carried).
 * Called before anything else hangs listeners on the response, so that the fast path keeps this
 * one when it takes a stream over (sse/listener-marks.ts).
 */
export function logRequest(req: IncomingMessage, res: ServerResponse, logger: Logger): void {
  const started = performance.now();
  const id = requestIdOf(req.headers[REQUEST_ID_HEADER]);
  req.headers[REQUEST_ID_HEADER] = id;
  res.setHeader(REQUEST_ID_HEADER, id);
  let log: Logger | undefined;
  const record: RequestRecord = {
    id,
    // made on first use: most requests log nothing but their access line, if info is on
    get log() {
      log ??= logger.child({ requestId: id });
      return log;
    },
  };
  records.set(req, record);
  const { socket } = req;
  const bytesBefore = socket.bytesWritten;
  res.once('close', () => {
    if (!logger.isLevelEnabled('info')) return;
    record.log.info(
      {
        method: req.method,
        path: pathOf(req.url),
        operationName: record.operationName,
        status: res.statusCode,
        durationMs: Math.round(performance.now() - started),
        bytes: socket.bytesWritten - bytesBefore,
        events: record.events,
      },
      'request',
    );
  });
}
