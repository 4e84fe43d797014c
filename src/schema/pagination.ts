import { encodeCursor, type Page } from '../db/pagination.ts';
import { badInput } from '../errors.ts';

/** The largest page a client may ask for. */
export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

export function checkFirst(first: number | null | undefined): number {
  const n = first ?? DEFAULT_PAGE_SIZE;
  if (n < 0 || n > MAX_PAGE_SIZE) {
    throw badInput('first', `first must be between 0 and ${MAX_PAGE_SIZE}`);
  }
  return n;
}

/** A Relay connection over a page of rows that carry their insertion sequence. */
export function toConnection<T extends { seq: number }>(
  page: Page<T>,
  after: string | null | undefined,
) {
  const edges = page.rows.map((node) => ({ node, cursor: encodeCursor(node.seq) }));
  return {
    edges,
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: Boolean(after),
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
