/** yoga's GraphQL endpoint: queries, mutations, uploads, and its own SSE. */
export const GRAPHQL_ENDPOINT = '/graphql';
/** graphql-sse's endpoint (distinct connections and single-connection mode). */
export const SSE_ENDPOINT = '/graphql/stream';

/** The path of a node:http request's URL, without its query. */
export function pathOf(url: string | undefined): string {
  const query = url?.indexOf('?') ?? -1;
  return query === -1 ? (url ?? '') : (url?.slice(0, query) ?? '');
}

/** The protocol of an event stream asked for at `url`: graphql-sse's endpoint, or yoga's own. */
export const streamKindOf = (url: string | undefined) =>
  pathOf(url) === SSE_ENDPOINT ? ('graphql-sse' as const) : ('yoga-sse' as const);
