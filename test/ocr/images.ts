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

export type RenderOptions = { fontSize?: number; width?: number; format?: 'png' | 'jpeg' | 'webp' };

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
  return canvas.toBuffer('image/webp', 100);
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
