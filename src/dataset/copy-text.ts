/** Characters with a meaning in PostgreSQL's COPY text format: escape, row and column ends. */
const SPECIAL = /[\\\n\r\t]/g;
const ESCAPED: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const TAB = 0x09;
const NEWLINE = 0x0a;

export type CopyValue = string | number | boolean | null;

/**
 * Rows for `COPY … FROM STDIN` in text format: columns separated by tabs, NULL as `\N`. A
 * backslash is doubled, so data can never form an escape or the end marker `\.`. (NUL cannot be
 * stored in PostgreSQL text at all; validation rejects it before.) Encoded straight into one
 * growing buffer: building a string of the batch and encoding it after costs twice as much.
 */
export class CopyRows {
  private buffer = Buffer.allocUnsafe(64 * 1024);
  private length = 0;

  add(columns: readonly CopyValue[]): void {
    for (let i = 0; i < columns.length; i += 1) {
      const value = columns[i] ?? null;
      const field =
        value === null
          ? '\\N'
          : typeof value === 'string'
            ? value.replace(SPECIAL, escaped)
            : String(value);
      this.reserve(3 * field.length + 1); // UTF-8 takes at most 3 bytes per UTF-16 code unit
      this.length += this.buffer.write(field, this.length, 'utf8');
      this.buffer[this.length++] = i === columns.length - 1 ? NEWLINE : TAB;
    }
  }

  /** The rows so far (a view of the buffer, not a copy). */
  bytes(): Buffer<ArrayBuffer> {
    return this.buffer.subarray(0, this.length);
  }

  private reserve(bytes: number) {
    if (this.length + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(2 * this.buffer.length, this.length + bytes));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }
}

const escaped = (c: string) => ESCAPED[c] as string;
