import type { CombinedError } from '@urql/core';

/** The contract's `extensions.code` of the first GraphQL error, if any. */
export function errorCode(error: CombinedError | undefined): string | undefined {
  const code = error?.graphQLErrors[0]?.extensions.code;
  return typeof code === 'string' ? code : undefined;
}

/** A sentence for people: the API's own message, or what went wrong on the way. */
export function errorMessage(error: CombinedError): string {
  const first = error.graphQLErrors[0];
  if (first) return first.message;
  return error.networkError
    ? `The server could not be reached (${error.networkError.message}).`
    : error.message;
}

/**
 * BAD_USER_INPUT errors name the offending input field in `extensions.field`
 * (`input.batchSize`, `input.bundeslaender.0`): returns the messages by top-level field
 * (`batchSize`, `bundeslaender`), and the errors that name no field.
 */
export function fieldErrors(error: CombinedError | undefined): {
  byField: Record<string, string>;
  other: string[];
} {
  const byField: Record<string, string> = {};
  const other: string[] = [];
  if (!error) return { byField, other };
  if (!error.graphQLErrors.length) other.push(errorMessage(error));
  for (const e of error.graphQLErrors) {
    const field = e.extensions.field;
    const name = typeof field === 'string' ? field.split('.')[1] : undefined;
    if (e.extensions.code === 'BAD_USER_INPUT' && name) byField[name] ??= e.message;
    else other.push(e.message);
  }
  return { byField, other };
}
