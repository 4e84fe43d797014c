import { type ExecutionResult, GraphQLError, type GraphQLFormattedError } from 'graphql';

type MaskError = (error: unknown, message: string, isDev?: boolean) => Error;

/** yoga's message for masked errors. */
const MASKED_MESSAGE = 'Unexpected error.';

const messages = new WeakMap<ExecutionResult, Buffer>();

/**
 * `event: next` with `result` as yoga's SSE and graphql-sse (distinct connections) write it,
 * serialized and encoded once per result object: subscribers of one operation share results
 * (schema/shared-subscription-results.ts), so they share the bytes too. Errors are masked as
 * yoga masks them (this path skips its result hooks) and lose the internal extensions yoga
 * strips before sending.
 */
export function sseNextMessage(result: ExecutionResult, maskError: MaskError): Buffer {
  let message = messages.get(result);
  if (!message) {
    const sent = result.errors?.length
      ? { ...result, errors: result.errors.map((e) => formatted(maskError(e, MASKED_MESSAGE))) }
      : result;
    message = Buffer.from(`event: next\ndata: ${JSON.stringify(sent)}\n\n`);
    messages.set(result, message);
  }
  return message;
}

function formatted(error: Error): GraphQLFormattedError {
  if (!(error instanceof GraphQLError)) return { message: error.message };
  const json = error.toJSON();
  if (!json.extensions) return json;
  const { http: _http, unexpected: _unexpected, ...extensions } = json.extensions;
  return { ...json, extensions: Object.keys(extensions).length > 0 ? extensions : undefined };
}
