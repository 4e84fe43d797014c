import { GraphQLError } from 'graphql';
import { maskError as yogaMaskError } from 'graphql-yoga';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';

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
    const masked = yogaMaskError(error, message, isDev);
    if (masked !== error) logger.error({ err: original }, 'unexpected error');
    return masked;
  };
}
