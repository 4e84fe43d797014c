import { badInput } from '../vocabulary/errors.ts';

/** A page of rows ordered newest first by their insertion sequence. */
export type Page<T> = { rows: T[]; hasNextPage: boolean };

export type PageArgs = { first: number; after?: string | null };

const PREFIX = 'seq:';

export const encodeCursor = (seq: number) => Buffer.from(`${PREFIX}${seq}`).toString('base64url');

/** The sequence number a cursor points at; BAD_USER_INPUT when it is not one of ours. */
export function decodeCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString();
  const seq = Number(text.slice(PREFIX.length));
  if (!text.startsWith(PREFIX) || !Number.isSafeInteger(seq) || seq < 1) {
    throw badInput('after', 'after must be a cursor returned by this connection');
  }
  return seq;
}

export function toPage<T>(rows: T[], first: number): Page<T> {
  return { rows: rows.slice(0, first), hasNextPage: rows.length > first };
}
