import type { IncomingMessage, ServerResponse } from 'node:http';
import { accessDenied, authOfHeader } from '../auth/request-auth.ts';
import type { TokenStore } from '../auth/tokens.ts';
import type { Limits } from '../config.ts';
import type { Logger } from '../logger.ts';
import { ErrorCode } from '../vocabulary/errors.ts';
import { pathOf } from './endpoints.ts';
import { closeAfterAnswer, refuseAndClose } from './refusals.ts';

export type BodyLimits = Pick<Limits, 'maxBodyBytes' | 'maxUploadBytes'>;

const isUpload = (req: IncomingMessage) =>
  req.headers['content-type']?.toLowerCase().startsWith('multipart/form-data') ?? false;

/** Without Content-Length or Transfer-Encoding a request has no body (RFC 9112, 6.3). */
const hasBody = (req: IncomingMessage) =>
  req.headers['transfer-encoding'] !== undefined ||
  (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');

export type BodyCheck = {
  limits: BodyLimits;
  tokens: TokenStore | 'disabled';
  logger: Logger;
};

/** Answers 413; logs what the request declared and how much of its body was read. */
function refuseTooLarge(
  req: IncomingMessage,
  res: ServerResponse,
  name: keyof BodyLimits,
  { limits, logger }: BodyCheck,
  received: number,
): void {
  const limit = limits[name];
  logger.warn(
    {
      path: pathOf(req.url),
      limit: name,
      declared: req.headers['content-length'],
      received,
      remoteAddress: req.socket.remoteAddress,
      remotePort: req.socket.remotePort,
    },
    'request body over its limit: refused',
  );
  const what = name === 'maxUploadBytes' ? 'The upload' : 'The request body';
  refuseAndClose(res, 413, `${what} exceeds the limit of ${limit} bytes`, {
    code: ErrorCode.PAYLOAD_TOO_LARGE,
    limit: name,
  });
}

/**
 * The one rule on request sizes, applied where node:http hands a request over, before yoga,
 * graphql-sse or the form-data parser read any of it: every path, content type and transfer
 * encoding. A multipart body (an upload: admin-only mutations) may have MAX_UPLOAD_BYTES, and is
 * refused unread unless the caller is an admin; any other body MAX_BODY_BYTES. A declared
 * Content-Length over the limit is refused at once; otherwise the bytes are counted as the parser
 * delivers them, and the one that passes the limit stops the reading: the request gets 413 and
 * its connection is closed. Returns false when it refused the request.
 */
export function admitBody(req: IncomingMessage, res: ServerResponse, check: BodyCheck): boolean {
  if (!hasBody(req)) return true;
  const upload = isUpload(req);
  if (upload) {
    const auth = authOfHeader(req.headers.authorization, check.tokens);
    if (auth.role !== 'admin') {
      const denied = accessDenied(auth);
      refuseAndClose(res, denied.httpStatus, denied.message, { code: denied.code });
      return false;
    }
  }
  const name = upload ? 'maxUploadBytes' : 'maxBodyBytes';
  const limit = check.limits[name];
  if (Number(req.headers['content-length']) > limit) {
    refuseTooLarge(req, res, name, check, 0);
    return false;
  }
  countBody(req, res, limit, (received) => refuseTooLarge(req, res, name, check, received));
  return true;
}

/**
 * Counts the body where node's HTTP parser pushes it into the request stream (parserOnBody calls
 * `push` on the request), so every reader, and every byte, passes here first.
 */
function countBody(
  req: IncomingMessage,
  res: ServerResponse,
  limit: number,
  refuse: (received: number) => void,
): void {
  let received = 0;
  const push = req.push;
  // A response that ends before its body was read (yoga refusing a content type, say): close the
  // connection rather than let node read the rest to reuse it.
  const onFinish = () => {
    if (!req.complete) closeAfterAnswer(req.socket);
  };
  req.push = (chunk: Buffer | null, encoding?: BufferEncoding) => {
    if (chunk === null) {
      // The whole body is in: nothing more to count or to close for, and an event stream
      // keeps its request and response as long as it is open.
      req.push = push;
      res.removeListener('finish', onFinish);
      return push.call(req, chunk, encoding);
    }
    // Over already: what the parser still holds of the socket's last read is dropped.
    if (received > limit) return false;
    received += chunk.length;
    if (received <= limit) return push.call(req, chunk, encoding);
    // Until the answer is out, no reader may start the socket again (IncomingMessage#_read does).
    req._read = () => {};
    refuse(received);
    return false;
  };
  res.once('finish', onFinish);
}
