import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { ErrorCode } from '../errors.ts';

export type BodyLimits = {
  /** Any non-multipart request body (JSON, GraphQL string, form). */
  maxBodyBytes: number;
  /** A whole multipart upload request. */
  maxUploadBytes: number;
};

const isMultipart = (request: Request) =>
  request.headers.get('content-type')?.toLowerCase().startsWith('multipart/form-data') ?? false;

export const tooLarge = (what: string, limit: number) =>
  createGraphQLError(`${what} exceeds the limit of ${limit} bytes`, {
    extensions: { code: ErrorCode.PAYLOAD_TOO_LARGE, http: { status: 413 } },
  });

/** Reads a body as text, giving up (and refusing) as soon as it passes the limit. */
async function readLimited(body: ReadableStream<Uint8Array>, limit: number): Promise<string> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge('The request body', limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Refuses oversized bodies with PAYLOAD_TOO_LARGE: at once when Content-Length says so, and while
 * streaming otherwise, so a chunked body cannot make the server buffer more than the limit.
 * Multipart bodies are bounded per file and in file count by the form-data parser's limits.
 */
export function useBodyLimits(limits: BodyLimits): Plugin {
  return {
    onRequestParse({ request, setRequestParser }) {
      if (request.method !== 'POST') return;
      const multipart = isMultipart(request);
      const limit = multipart ? limits.maxUploadBytes : limits.maxBodyBytes;
      const declared = Number(request.headers.get('content-length'));
      if (declared > limit) throw tooLarge(multipart ? 'The upload' : 'The request body', limit);
      const contentType = request.headers.get('content-type')?.toLowerCase() ?? '';
      if (
        !contentType.startsWith('application/json') &&
        !contentType.startsWith('application/graphql+json')
      )
        return;
      setRequestParser(async (req) => {
        const text = req.body ? await readLimited(req.body, limits.maxBodyBytes) : '';
        try {
          return JSON.parse(text);
        } catch {
          throw createGraphQLError('POST body sent invalid JSON.', {
            extensions: { code: ErrorCode.BAD_USER_INPUT, http: { status: 400 } },
          });
        }
      });
    },
  };
}
