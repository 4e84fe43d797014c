import { type ExecutionResult, GraphQLError, type GraphQLFormattedError } from 'graphql';

export type MaskError = (error: unknown, message: string, isDev?: boolean) => Error;

/** yoga's message for masked errors. */
const MASKED_MESSAGE = 'Unexpected error.';

/**
 * `event: next` with `result` as yoga's SSE and graphql-sse (distinct connections) write it.
 * Subscribers of one operation share results, and so the bytes (see shared-update.ts). Errors
 * are masked as yoga masks them (this path skips its result hooks) and lose the internal
 * extensions yoga strips before sending.
 */
export function sseNextMessage(result: ExecutionResult, maskError: MaskError): Buffer {
  const sent = result.errors?.length
    ? { ...result, errors: result.errors.map((e) => formatted(maskError(e, MASKED_MESSAGE))) }
    : result;
  return Buffer.from(`event: next\ndata: ${JSON.stringify(sent)}\n\n`);
}

function formatted(error: Error): GraphQLFormattedError {
  if (!(error instanceof GraphQLError)) return { message: error.message };
  const json = error.toJSON();
  if (!json.extensions) return json;
  const { http: _http, unexpected: _unexpected, ...extensions } = json.extensions;
  return { ...json, extensions: Object.keys(extensions).length > 0 ? extensions : undefined };
}
