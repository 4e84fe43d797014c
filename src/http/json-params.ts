import type { IncomingMessage } from 'node:http';

/** What a GraphQL-over-HTTP request's JSON body holds when it is a plain operation. */
export type JsonParams = {
  query: string;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
  extensions?: undefined;
};

const PLAIN_KEYS = new Set(['query', 'operationName', 'variables']);

/** A request's body, or null if the request ended without one (client gone, refused). */
export function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer) => chunks.push(chunk);
    const settle = (body: Buffer | null) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.off('error', onClose);
      resolve(body);
    };
    const onEnd = () => settle(Buffer.concat(chunks));
    const onClose = () => settle(null);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
    req.on('error', onClose);
  });
}

/**
 * The operation of a JSON body, or null for a body the libraries would refuse or read more in
 * (extensions, a document id, a batch): the fast paths leave those to them.
 */
export function paramsOf(body: Buffer): JsonParams | null {
  let data: unknown;
  try {
    data = JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return null;
  for (const key in data) if (!PLAIN_KEYS.has(key)) return null;
  const { query, operationName, variables } = data as Record<string, unknown>;
  if (typeof query !== 'string') return null;
  if (operationName != null && typeof operationName !== 'string') return null;
  if (variables != null && (typeof variables !== 'object' || Array.isArray(variables))) return null;
  // the same object graphql-sse makes, as plugins read it from the context
  return {
    operationName: operationName as string | null | undefined,
    query,
    variables: variables as Record<string, unknown> | null | undefined,
    extensions: undefined,
  };
}
