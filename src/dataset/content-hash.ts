import { createHash } from 'node:crypto';

/**
 * The text as compared for duplicates: Unicode NFC, whitespace runs as one space, trimmed; so a
 * re-export with other line breaks or composed umlauts is still the same document.
 */
export const normaliseText = (text: string) =>
  text.normalize('NFC').replace(COLLAPSIBLE, ' ').trim();

/**
 * Whitespace runs other than a lone space; leaving those alone is the same result as replacing
 * every run (`\s+`) and about three times faster, most runs being single spaces.
 */
const COLLAPSIBLE = /\s{2,}|[^\S ]/g;

/** SHA-256 (hex) of the normalised text. */
export const contentHash = (text: string) =>
  createHash('sha256').update(normaliseText(text)).digest('hex');
