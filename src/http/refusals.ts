import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorCode } from '../vocabulary/errors.ts';

export type RefusalExtensions = { code: ErrorCode } & Record<string, unknown>;

/** A refused request's body, shaped as yoga shapes its errors. */
export const errorDocument = (message: string, extensions: RefusalExtensions) =>
  JSON.stringify({ errors: [{ message, extensions }] });

/** How long a connection is kept after its answer while the client may still be sending. */
const LINGER_MS = 2000;

/**
 * Ends a connection whose request body was not read to its end: the server's side is closed
 * (FIN after the answer) and what the client still sends is read and dropped, until the client
 * closes or for LINGER_MS at most. Closing outright would reset a connection that still has
 * unread bytes, and a client that is still sending then often loses the answer unread.
 */
export function closeAfterAnswer(socket: Socket): void {
  if (socket.destroyed) return;
  socket.end();
  const timer = setTimeout(() => socket.destroy(), LINGER_MS).unref();
  socket.once('close', () => clearTimeout(timer));
  socket.resume();
}

/**
 * Answers with a GraphQL-style error and closes the connection (closeAfterAnswer), so that the
 * rest of the request's body is never taken in (node would otherwise read it all to reuse the
 * connection). A response that has started already can only be cut.
 */
export function refuseAndClose(
  res: ServerResponse,
  status: number,
  message: string,
  extensions: RefusalExtensions,
  headers: Record<string, string> = {},
): void {
  const socket = res.socket;
  if (res.headersSent || !socket) {
    res.destroy();
    return;
  }
  const body = errorDocument(message, extensions);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    connection: 'close',
    ...headers,
  });
  // node ends a `Connection: close` response with socket.destroySoon(), which closes outright.
  socket.destroySoon = () => closeAfterAnswer(socket);
  res.end(body);
}
