import { describe, expect, test } from 'vitest';
import { type Line, splitLines } from '../../src/dataset/lines.ts';
import { bytes } from './helpers.ts';

describe('splitting lines', () => {
  const collect = async (source: AsyncIterable<Uint8Array>, max?: number) => {
    const out: Line[] = [];
    for await (const line of splitLines(source, max)) out.push(line);
    return out;
  };

  test('LF and CRLF, a byte order mark, multi-byte characters across chunk borders', async () => {
    const text = '\uFEFFerste Zeile\r\nzweite: Größe ß €\n\ndritte';
    for (const size of [1, 2, 3, 5, 64]) {
      expect(await collect(bytes(text, size))).toEqual([
        'erste Zeile',
        'zweite: Größe ß €',
        '',
        'dritte',
      ]);
    }
  });

  test('a line over the limit is reported, not kept, and the next line is intact', async () => {
    const text = `kurz\n${'x'.repeat(100)}\nnach`;
    expect(await collect(bytes(text, 9), 50)).toEqual([
      'kurz',
      { overlong: true, bytes: 100 },
      'nach',
    ]);
  });
});
