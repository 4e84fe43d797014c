import { DEFAULT_MAX_PAGE_SIZE } from '../config.ts';
import { encodeCursor, type Page } from '../db/pagination.ts';
import { badInput } from '../vocabulary/errors.ts';
import { builder } from './builder.ts';
import type { GraphQLContext } from './context.ts';

export const DEFAULT_PAGE_SIZE = 20;

/** The arguments every connection takes, besides its filters. */
export const pageArgs = builder.args((t) => ({
  first: t.int({
    defaultValue: DEFAULT_PAGE_SIZE,
    description: `Page size, 0..${DEFAULT_MAX_PAGE_SIZE} (MAX_PAGE_SIZE).`,
  }),
  after: t.string({ description: 'Cursor of the last edge of the previous page.' }),
}));

type PageArgs = { first?: number | null; after?: string | null };

/**
 * The Relay connection of one page: `first` checked against MAX_PAGE_SIZE, the page listed by
 * the domain, its rows turned into edges with cursors. `position` is a row's key in the page's
 * order: its insertion sequence unless said otherwise.
 */
export async function connectionOf<A extends PageArgs, T>(
  args: A,
  ctx: GraphQLContext,
  list: (filter: A & { first: number }) => Promise<Page<T>>,
  position: (node: T) => number = (node) => (node as { seq: number }).seq,
) {
  const page = await list({ ...args, first: checkFirst(args.first, ctx.limits.maxPageSize) });
  const edges = page.rows.map((node) => ({ node, cursor: encodeCursor(position(node)) }));
  return {
    edges,
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: Boolean(args.after),
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

/** The page size asked for, within 0..maxPageSize (MAX_PAGE_SIZE). */
function checkFirst(first: number | null | undefined, maxPageSize: number): number {
  const n = first ?? DEFAULT_PAGE_SIZE;
  if (n < 0 || n > maxPageSize) {
    throw badInput('first', `first must be between 0 and ${maxPageSize}`);
  }
  return n;
}
