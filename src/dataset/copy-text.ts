/** Characters with a meaning in PostgreSQL's COPY text format: escape, row and column ends. */
const SPECIAL = /[\\\n\r\t]/g;
const ESCAPED: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * One row of `COPY … FROM STDIN` in text format: columns separated by tabs, NULL as `\N`. A
 * backslash is doubled, so data can never form an escape or the end marker `\.`. (NUL cannot be
 * stored in PostgreSQL text at all; validation rejects it before.)
 */
export function copyRow(columns: readonly (string | number | boolean | null)[]): string {
  let row = '';
  for (let i = 0; i < columns.length; i += 1) {
    const value = columns[i];
    const field =
      value === null
        ? '\\N'
        : typeof value === 'string'
          ? value.replace(SPECIAL, (c) => ESCAPED[c] as string)
          : String(value);
    row += i === 0 ? field : `\t${field}`;
  }
  return `${row}\n`;
}
