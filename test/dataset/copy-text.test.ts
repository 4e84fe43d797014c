import { describe, expect, test } from 'vitest';
import { copyRow } from '../../src/dataset/copy-text.ts';

describe('COPY text format rows', () => {
  test('columns by tab, NULL as \\N, other values as text', () => {
    expect(copyRow(['a', 1, true, null])).toBe('a\t1\ttrue\t\\N\n');
  });

  test('tab, line ends and backslash are escaped, so data never ends a row or the data', () => {
    expect(copyRow(['Spalte\tzwei', 'Zeile\r\nneu', 'C:\\Pfad', '\\.', '\\N'])).toBe(
      'Spalte\\tzwei\tZeile\\r\\nneu\tC:\\\\Pfad\t\\\\.\t\\\\N\n',
    );
  });

  test('everything else passes as is', () => {
    expect(copyRow(['Größe ß € 😀 "quoted" \'single\' ,;'])).toBe(
      'Größe ß € 😀 "quoted" \'single\' ,;\n',
    );
  });
});
