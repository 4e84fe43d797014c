import { describe, expect, test } from 'vitest';
import { CHUNK_OVERLAP, CHUNK_WORDS } from '../../src/dataset/chunk-sizes.ts';
import { chunkText } from '../../src/dataset/chunker.ts';

/** A seeded generator, so that a failing case can be replayed. */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// every kind of whitespace `\s` knows, and look-alikes it does not (zero-width space, NEL, U+180E)
const SPACES = [
  ' ',
  '  ',
  '\n',
  '\n\n',
  '\t',
  ' \r\n',
  '\v\f',
  '\u00a0',
  '\u1680',
  '\u2000',
  '\u200a',
  '\u2028\u2029',
  '\u202f',
  '\u205f',
  '\u3000',
  '\ufeff',
];
const WORDS = [
  'Schule',
  '§',
  '3',
  'Abs.',
  'Schülerinnen',
  'a',
  'RdErl.',
  '—',
  'ß',
  'Zeugnis,',
  'x\u200by',
  '\u0085',
  '\u180e',
  '😀',
];

function randomText(rng: () => number, words: number): string {
  let text = rng() < 0.3 ? ' \n' : '';
  for (let i = 0; i < words; i += 1) {
    text += `${WORDS[Math.floor(rng() * WORDS.length)]}${SPACES[Math.floor(rng() * SPACES.length)]}`;
  }
  return rng() < 0.5 ? text.trimEnd() : text;
}

const words = (text: string) => text.match(/\S+/g) ?? [];

describe('chunkText', () => {
  test('the defaults: 200-word chunks overlapping by 20 words', () => {
    const text = Array.from({ length: 500 }, (_, i) => `w${i}`).join(' ');
    const chunks = chunkText(text);
    expect(chunks.map((c) => c.wordCount)).toEqual([200, 200, 140]);
    expect(CHUNK_WORDS).toBe(200);
    expect(CHUNK_OVERLAP).toBe(20);
    expect(words(chunks[1]?.text ?? '')[0]).toBe('w180');
    expect(words(chunks[2]?.text ?? '').at(-1)).toBe('w499');
  });

  test('a text without words has no chunks; a short one is one chunk of itself', () => {
    expect(chunkText(' \n\t ')).toEqual([]);
    expect(chunkText('  Hinweise für\nLehrkräfte  ')).toEqual([
      { index: 0, text: 'Hinweise für\nLehrkräfte', wordCount: 3 },
    ]);
  });

  test('rejects an overlap that would not advance', () => {
    expect(() => chunkText('a b c', { maxWords: 5, overlap: 5 })).toThrow(RangeError);
  });

  test('properties over many random texts and settings', () => {
    const rng = random(20261127);
    for (let run = 0; run < 500; run += 1) {
      const maxWords = 1 + Math.floor(rng() * 30);
      const overlap = Math.floor(rng() * maxWords);
      const text = randomText(rng, Math.floor(rng() * 120));
      const all = words(text);
      const spans = [...text.matchAll(/\S+/g)];
      const chunks = chunkText(text, { maxWords, overlap });
      const context = { run, maxWords, overlap, text };

      expect(chunks.length === 0, JSON.stringify(context)).toBe(all.length === 0);
      let covered = 0;
      chunks.forEach((chunk, i) => {
        const own = words(chunk.text);
        // bounded, counted truly, indexed in order
        expect(chunk.index).toBe(i);
        expect(chunk.wordCount).toBe(own.length);
        expect(own.length).toBeGreaterThan(0);
        expect(own.length).toBeLessThanOrEqual(maxWords);
        // exactly `overlap` words shared with the previous chunk, then new words in order
        const start = i === 0 ? 0 : covered - overlap;
        expect(own, JSON.stringify(context)).toEqual(all.slice(start, start + own.length));
        covered = start + own.length;
        // the text verbatim from the first word's start to the last word's end: never mid-word
        const first = spans[start];
        const last = spans[covered - 1];
        expect(chunk.text).toBe(
          text.slice(first?.index, (last?.index ?? 0) + (last?.[0].length ?? 0)),
        );
        // every chunk but the last is full
        if (i < chunks.length - 1) expect(own.length).toBe(maxWords);
      });
      expect(covered).toBe(all.length);
    }
  });
});
