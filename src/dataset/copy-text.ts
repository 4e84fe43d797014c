/** Characters with a meaning in PostgreSQL's COPY text format: escape, row and column ends. */
const SPECIAL = /[\\\n\r\t]/g;
const ESCAPED: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

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
      if (i > 0) this.ascii('\t');
      const value = columns[i] ?? null;
      if (value === null) this.ascii('\\N');
      else if (typeof value === 'string') this.text(value.replace(SPECIAL, escaped));
      else this.ascii(String(value));
    }
    this.ascii('\n');
  }

  /** The rows so far (a view of the buffer, not a copy). */
  bytes(): Buffer<ArrayBuffer> {
    return this.buffer.subarray(0, this.length);
  }

  private text(value: string) {
    this.reserve(value.length * 3); // UTF-8 takes at most 3 bytes per UTF-16 code unit
    this.length += this.buffer.write(value, this.length, 'utf8');
  }

  private ascii(value: string) {
    this.reserve(value.length);
    this.length += this.buffer.write(value, this.length, 'latin1');
  }

  private reserve(bytes: number) {
    if (this.length + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(2 * this.buffer.length, this.length + bytes));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }
}

const escaped = (c: string) => ESCAPED[c] as string;
