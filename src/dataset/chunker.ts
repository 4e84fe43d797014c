import { CHUNK_OVERLAP, CHUNK_WORDS } from './constants.ts';

export type Chunk = { index: number; text: string; wordCount: number };

export type ChunkOptions = { maxWords: number; overlap: number };

const WORD = /\S+/g;

/**
 * Cuts a text into chunks of at most `maxWords` words, each starting `overlap` words before the
 * previous one ended. A word is a run of non-whitespace, so a cut never falls inside one; each
 * chunk is the original text from its first word to its last (line breaks kept).
 */
export function chunkText(
  text: string,
  { maxWords, overlap }: ChunkOptions = { maxWords: CHUNK_WORDS, overlap: CHUNK_OVERLAP },
): Chunk[] {
  if (!Number.isInteger(maxWords) || !Number.isInteger(overlap) || overlap < 0) {
    throw new RangeError('maxWords and overlap must be integers, overlap ≥ 0');
  }
  if (overlap >= maxWords) throw new RangeError('overlap must be smaller than maxWords');
  const starts: number[] = [];
  const ends: number[] = [];
  for (const match of text.matchAll(WORD)) {
    starts.push(match.index);
    ends.push(match.index + match[0].length);
  }
  const chunks: Chunk[] = [];
  const stride = maxWords - overlap;
  for (let first = 0; first < starts.length; first += stride) {
    const last = Math.min(first + maxWords, starts.length) - 1;
    chunks.push({
      index: chunks.length,
      text: text.slice(starts[first], ends[last]),
      wordCount: last - first + 1,
    });
    if (last === starts.length - 1) break;
  }
  return chunks;
}
