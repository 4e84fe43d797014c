import { GraphQLError } from 'graphql';
import { maskError as yogaMaskError } from 'graphql-yoga';
import { AppError, ErrorCode } from '../errors.ts';
import type { Logger } from '../logger.ts';

/**
 * Turns domain errors into GraphQL errors with the contract's `extensions.code` (and `field`);
 * anything unexpected is logged in full and reaches the client only as a masked message.
 */
export function createMaskError(logger: Logger) {
  return (error: unknown, message: string, isDev?: boolean): Error => {
    if (isBodyTooLarge(error)) {
      return new GraphQLError((error as Error).message, {
        extensions: { code: ErrorCode.PAYLOAD_TOO_LARGE, http: { status: 413 } },
      });
    }
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
    const masked = yogaMaskError(error, message, isDev);
    if (masked !== error) logger.error({ err: original }, 'unexpected error');
    return masked;
  };
}

/**
 * yoga's request body limit (`maxRequestBodySize`): REQUEST_ENTITY_TOO_LARGE when the
 * Content-Length says so up front; when a streamed multipart body crosses it, yoga re-wraps the
 * error as BAD_REQUEST, and only the message tells. The contract calls both PAYLOAD_TOO_LARGE.
 */
function isBodyTooLarge(error: unknown): boolean {
  if (!(error instanceof GraphQLError)) return false;
  return (
    error.extensions.code === 'REQUEST_ENTITY_TOO_LARGE' ||
    (error.extensions.code === 'BAD_REQUEST' && error.message.endsWith('Request body too large'))
  );
}
