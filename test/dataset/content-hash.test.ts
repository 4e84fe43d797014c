import { describe, expect, test } from 'vitest';
import { contentHash, normaliseText } from '../../src/dataset/content-hash.ts';

describe('normalised text and content hash', () => {
  test('NFC, every whitespace run as one space, trimmed', () => {
    const spaces = [' ', '  ', '\n', '\t', '\r\n', '\u00a0', '\u2003 ', '\u3000', '\ufeff'];
    for (const space of spaces) {
      expect(normaliseText(`${space}Gro\u0308ße${space}Schule${space}`)).toBe('Größe Schule');
    }
    expect(normaliseText('a\u200bb c')).toBe('a\u200bb c');
  });

  test('the same as collapsing every run of \\s', () => {
    const pieces = ['Wort', ' ', '  ', '\n', '\t \t', '\u00a0', ' \u2028', 'ä', '\u200b'];
    let seed = 7;
    for (let run = 0; run < 300; run += 1) {
      let text = '';
      for (let i = 0; i < 20; i += 1) {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        text += pieces[seed % pieces.length];
      }
      expect(normaliseText(text)).toBe(text.normalize('NFC').replace(/\s+/g, ' ').trim());
    }
  });

  test('re-formatted text hashes the same', () => {
    expect(contentHash(' Die  Schule\r\nbeginnt. ')).toBe(contentHash('Die Schule beginnt.'));
  });
});
