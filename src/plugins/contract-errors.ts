import { type ExecutionResult, GraphQLError } from 'graphql';
import { isAsyncIterable, type Plugin, maskError as yogaMaskError } from 'graphql-yoga';
import type { Logger } from '../logger.ts';
import { AppError, ErrorCode } from '../vocabulary/errors.ts';

/**
 * Turns domain errors into GraphQL errors with the contract's `extensions.code` (and `field`);
 * anything unexpected is logged in full and reaches the client only as a masked message.
 */
export function createMaskError(logger: Logger) {
  return (error: unknown, message: string, isDev?: boolean): Error => {
    const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
    if (original instanceof AppError) {
      const located = error instanceof GraphQLError ? error : undefined;
      return new GraphQLError(original.message, {
        nodes: located?.nodes,
        source: located?.source,
        positions: located?.positions,
        path: located?.path,
        extensions: {
          code: original.code,
          ...(original.field ? { field: original.field } : {}),
        },
      });
    }
    if (error instanceof GraphQLError && !error.originalError) return withCode(error);
    const masked = yogaMaskError(error, message, isDev);
    if (masked !== error) logger.error({ err: original }, 'unexpected error');
    return masked;
  };
}

/**
 * Errors raised by GraphQL itself and by yoga (syntax, validation, variable coercion, HTTP
 * parsing, CSRF, form-data limits) are the client's: give them a contract code too.
 */
export function withCode(error: GraphQLError): GraphQLError {
  const current = error.extensions.code;
  if (typeof current === 'string' && CONTRACT_CODES.has(current)) return error;
  const http = error.extensions.http as { status?: number } | undefined;
  const tooLarge = http?.status === 413 || /limit exceeded|too large/i.test(error.message);
  const code = tooLarge
    ? ErrorCode.PAYLOAD_TOO_LARGE
    : http?.status === 403
      ? ErrorCode.FORBIDDEN
      : ErrorCode.BAD_USER_INPUT;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    extensions: {
      ...error.extensions,
      code,
      // yoga's own code (e.g. GRAPHQL_PARSE_FAILED), for clients that know it
      ...(current ? { reason: current } : {}),
      ...(tooLarge ? { http: { ...http, status: 413 } } : {}),
    },
  });
}

const CONTRACT_CODES = new Set<string>(Object.values(ErrorCode));
const INTERNAL = 'INTERNAL_SERVER_ERROR';

/**
 * Parse, validation and variable-coercion errors skip error masking in yoga; code them where
 * every result passes. Resolver errors were coded by maskError; masked internal errors stay so.
 */
export function useContractErrorCodes(): Plugin {
  const code = (e: GraphQLError) => (e.extensions.code === INTERNAL ? e : withCode(e));
  const codeErrors = (result: ExecutionResult): ExecutionResult =>
    result.errors ? { ...result, errors: result.errors.map(code) } : result;
  return {
    // Streams carry resolver errors only; the others come in single results.
    onResultProcess: ({ result, setResult }) => {
      if (isAsyncIterable(result)) return;
      setResult(Array.isArray(result) ? result.map(codeErrors) : codeErrors(result));
    },
  };
}
