import { describe, expect, test } from 'vitest';
import { CopyRows, type CopyValue } from '../../src/dataset/copy-text.ts';

const copyRow = (columns: CopyValue[]) => {
  const rows = new CopyRows();
  rows.add(columns);
  return rows.bytes().toString('utf8');
};

describe('COPY text format rows', () => {
  test('columns by tab, NULL as \\N, other values as text', () => {
    expect(copyRow(['a', 1, true, null])).toBe('a\t1\ttrue\t\\N\n');
  });

  test('tab, line ends and backslash are escaped, so data never ends a row or the data', () => {
    expect(copyRow(['Spalte\tzwei', 'Zeile\r\nneu', 'C:\\Pfad', '\\.', '\\N'])).toBe(
      'Spalte\\tzwei\tZeile\\r\\nneu\tC:\\\\Pfad\t\\\\.\t\\\\N\n',
    );
  });

  test('grows past its first buffer; many rows in order', () => {
    const rows = new CopyRows();
    const long = 'ü'.repeat(50_000);
    for (let i = 0; i < 5; i += 1) rows.add([i, long]);
    expect(rows.bytes().toString('utf8')).toBe(
      `0\t${long}\n1\t${long}\n2\t${long}\n3\t${long}\n4\t${long}\n`,
    );
  });

  test('everything else passes as is', () => {
    expect(copyRow(['Größe ß € 😀 "quoted" \'single\' ,;'])).toBe(
      'Größe ß € 😀 "quoted" \'single\' ,;\n',
    );
  });
});
