/** A line longer than the limit: reported instead of its text, which was not kept. */
export type OverlongLine = { overlong: true; bytes: number };

export type Line = string | OverlongLine;

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** The longest line kept in memory; about twice the longest valid document. */
export const MAX_LINE_BYTES = 4 * 1024 * 1024;

/**
 * Splits a byte stream (a file read stream, a web `ReadableStream`) into UTF-8 lines, `\n` or
 * `\r\n` terminated. Memory stays bounded by the longest line kept: a longer one is skipped up
 * to its end and yielded as `OverlongLine`, so a file without line breaks cannot exhaust memory.
 */
export async function* splitLines(
  source: ByteSource,
  maxLineBytes = MAX_LINE_BYTES,
): AsyncGenerator<Line> {
  // Strips a byte order mark at the start of each line (so of the file); anything else is kept.
  const decoder = new TextDecoder('utf-8');
  let parts: Buffer[] = [];
  let pending = 0;
  let overlong = false;
  const finish = (): Line => {
    const line: Line = overlong
      ? { overlong: true, bytes: pending }
      : decodeLine(
          decoder,
          parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, pending),
        );
    parts = [];
    pending = 0;
    overlong = false;
    return line;
  };
  for await (const chunk of asyncIterable(source)) {
    const bytes = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let from = 0;
    for (let at = bytes.indexOf(NEWLINE, from); at !== -1; at = bytes.indexOf(NEWLINE, from)) {
      keep(bytes.subarray(from, at));
      yield finish();
      from = at + 1;
    }
    keep(bytes.subarray(from));
  }
  if (pending > 0 || overlong) yield finish();

  function keep(piece: Buffer) {
    pending += piece.length;
    if (pending > maxLineBytes) {
      overlong = true;
      parts = [];
    } else if (piece.length > 0) {
      parts.push(piece);
    }
  }
}

/** A Node stream, or a web stream (an uploaded `File`'s `stream()`). */
export type ByteSource = AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>;

async function* asyncIterable(source: ByteSource): AsyncGenerator<Uint8Array> {
  if (Symbol.asyncIterator in source) {
    yield* source;
    return;
  }
  const reader = source.getReader();
  try {
    for (let next = await reader.read(); !next.done; next = await reader.read()) yield next.value;
  } finally {
    // Stopped early (a failed import): tell the producer nobody is reading any more.
    await reader.cancel();
  }
}

function decodeLine(decoder: TextDecoder, bytes: Buffer): string {
  const end = bytes.at(-1) === CARRIAGE_RETURN ? bytes.length - 1 : bytes.length;
  return decoder.decode(bytes.subarray(0, end));
}
