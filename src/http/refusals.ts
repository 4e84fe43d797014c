import type { ServerResponse } from 'node:http';
import type { ErrorCode } from '../errors.ts';

export type RefusalExtensions = { code: ErrorCode } & Record<string, unknown>;

/** A refused request's body, shaped as yoga shapes its errors. */
export const errorDocument = (message: string, extensions: RefusalExtensions) =>
  JSON.stringify({ errors: [{ message, extensions }] });

/**
 * Answers with a GraphQL-style error and then closes the connection, so that whatever is left of
 * the request's body is never read (node would otherwise read and discard it to reuse the
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
  if (res.headersSent) {
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
  res.end(body, () => socket?.destroy());
}
