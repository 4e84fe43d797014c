import { createRequire } from 'node:module';
import path from 'node:path';
import { createCanvas, GlobalFonts } from '@napi-rs/canvas';

/**
 * Renders text as images for OCR tests and benchmarks. The font comes from an npm package, so a
 * machine without system fonts renders the same pixels.
 */
const require = createRequire(import.meta.url);
const FONT_FILE = path.join(
  path.dirname(require.resolve('@fontsource/dejavu-sans/package.json')),
  'files/dejavu-sans-latin-400-normal.woff2',
);
const FAMILY = 'OCR Test Sans';
if (!GlobalFonts.registerFromPath(FONT_FILE, FAMILY)) {
  throw new Error(`could not load the test font ${FONT_FILE}`);
}

export type RenderOptions = {
  fontSize?: number;
  width?: number;
  format?: 'png' | 'jpeg' | 'webp' | 'bmp' | 'tiff';
};

/** Black text on white, one line per entry, in the given format (PNG by default). */
export function renderText(lines: readonly string[], options: RenderOptions = {}): Uint8Array {
  const fontSize = options.fontSize ?? 32;
  const lineHeight = Math.round(fontSize * 1.6);
  const measure = createCanvas(1, 1).getContext('2d');
  measure.font = `${fontSize}px "${FAMILY}"`;
  const textWidth = Math.max(...lines.map((line) => measure.measureText(line).width));
  const canvas = createCanvas(
    options.width ?? Math.ceil(textWidth) + 2 * fontSize,
    lineHeight * lines.length + fontSize,
  );
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = '#000';
  ctx.font = `${fontSize}px "${FAMILY}"`;
  ctx.textBaseline = 'top';
  lines.forEach((line, i) => {
    ctx.fillText(line, fontSize, fontSize / 2 + i * lineHeight);
  });
  const format = options.format ?? 'png';
  if (format === 'png') return canvas.toBuffer('image/png');
  if (format === 'jpeg') return canvas.toBuffer('image/jpeg', 95);
  if (format === 'webp') return canvas.toBuffer('image/webp', 100);
  const { data, width, height } = ctx.getImageData(0, 0, canvas.width, canvas.height);
  const grey = new Uint8Array(width * height).map((_, i) => data[i * 4] ?? 0);
  return format === 'bmp' ? encodeBmp(grey, width, height) : encodeTiff(grey, width, height);
}

/** A 24-bit BMP (canvas encodes none): rows bottom-up, each padded to 4 bytes. */
function encodeBmp(grey: Uint8Array, width: number, height: number): Uint8Array {
  const rowSize = Math.ceil((width * 3) / 4) * 4;
  const out = Buffer.alloc(54 + rowSize * height);
  out.write('BM', 0, 'latin1');
  out.writeUInt32LE(out.length, 2);
  out.writeUInt32LE(54, 10);
  out.writeUInt32LE(40, 14);
  out.writeInt32LE(width, 18);
  out.writeInt32LE(height, 22);
  out.writeUInt16LE(1, 26);
  out.writeUInt16LE(24, 28);
  out.writeUInt32LE(rowSize * height, 34);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = 54 + (height - 1 - y) * rowSize + x * 3;
      out.fill(grey[y * width + x] ?? 0, at, at + 3);
    }
  }
  return out;
}

/** An uncompressed 8-bit greyscale baseline TIFF, little-endian, in one strip. */
function encodeTiff(grey: Uint8Array, width: number, height: number): Uint8Array {
  const tags: Array<[tag: number, type: number, value: number]> = [
    [256, 4, width], // ImageWidth (LONG)
    [257, 4, height], // ImageLength
    [258, 3, 8], // BitsPerSample (SHORT)
    [259, 3, 1], // Compression: none
    [262, 3, 1], // PhotometricInterpretation: black is zero
    [273, 4, 0], // StripOffsets, set below
    [277, 3, 1], // SamplesPerPixel
    [278, 4, height], // RowsPerStrip
    [279, 4, grey.length], // StripByteCounts
  ];
  const ifdSize = 2 + tags.length * 12 + 4;
  const dataOffset = 8 + ifdSize;
  const out = Buffer.alloc(dataOffset + grey.length);
  out.write('II', 0, 'latin1');
  out.writeUInt16LE(42, 2);
  out.writeUInt32LE(8, 4);
  out.writeUInt16LE(tags.length, 8);
  tags.forEach(([tag, type, value], i) => {
    const at = 10 + i * 12;
    out.writeUInt16LE(tag, at);
    out.writeUInt16LE(type, at + 2);
    out.writeUInt32LE(1, at + 4);
    const v = tag === 273 ? dataOffset : value;
    if (type === 3) out.writeUInt16LE(v, at + 8);
    else out.writeUInt32LE(v, at + 8);
  });
  out.set(grey, dataOffset);
  return out;
}

/**
 * Text compared the way a reader would: same Unicode form, dashes alike (OCR reads "–" as "-"),
 * whitespace collapsed. Letters, umlauts and ß are kept as they are.
 */
export const normalise = (text: string) =>
  text
    .normalize('NFC')
    .replace(/[‐-―−]/g, '-')
    .replace(/\s+/g, ' ')
    .trim();

/** A PNG that is only a signature and a header declaring `width`×`height` (no pixel data). */
export function pngHeader(width: number, height: number): Uint8Array {
  const bytes = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(bytes);
  bytes.writeUInt32BE(13, 8);
  bytes.write('IHDR', 12, 'latin1');
  bytes.writeUInt32BE(width, 16);
  bytes.writeUInt32BE(height, 20);
  bytes.set([8, 0, 0, 0, 0], 24);
  return bytes;
}
