import { encodeCursor, type Page } from '../db/pagination.ts';
import { badInput } from '../errors.ts';

export const DEFAULT_PAGE_SIZE = 20;

/** The page size asked for, within 0..maxPageSize (MAX_PAGE_SIZE). */
export function checkFirst(first: number | null | undefined, maxPageSize: number): number {
  const n = first ?? DEFAULT_PAGE_SIZE;
  if (n < 0 || n > maxPageSize) {
    throw badInput('first', `first must be between 0 and ${maxPageSize}`);
  }
  return n;
}

/** A Relay connection over a page of rows that carry their insertion sequence. */
export const toConnection = <T extends { seq: number }>(
  page: Page<T>,
  after: string | null | undefined,
) => toConnectionBy(page, after, (node) => node.seq);

/** A Relay connection over a page of rows; `position` is the row's key in the page's order. */
export function toConnectionBy<T>(
  page: Page<T>,
  after: string | null | undefined,
  position: (node: T) => number,
) {
  const edges = page.rows.map((node) => ({ node, cursor: encodeCursor(position(node)) }));
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
