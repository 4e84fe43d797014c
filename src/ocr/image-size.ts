import type { ImageType } from '../vocabulary/ocr.ts';

export type Dimensions = { width: number; height: number };

/**
 * Width and height as the file's header states them, read without decoding a pixel; null when
 * the header is cut short or unclear (the engine then tells what is wrong). A small file can
 * declare a huge image (a PNG of a few KB can decode to gigabytes), so the size in bytes
 * limits nothing about the work an image costs: its pixels do.
 */
export function imageDimensions(bytes: Uint8Array, type: ImageType): Dimensions | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    return valid(READERS[type](view));
  } catch (error) {
    if (error instanceof RangeError) return null; // read past the end: a truncated header
    throw error;
  }
}

const valid = (d: Dimensions | null) => (d && d.width > 0 && d.height > 0 ? d : null);

const READERS: Record<ImageType, (view: DataView) => Dimensions | null> = {
  // IHDR is always the first chunk, right after the 8-byte signature.
  png: (view) => ({ width: view.getUint32(16), height: view.getUint32(20) }),
  jpeg: jpegDimensions,
  tiff: tiffDimensions,
  // BITMAPINFOHEADER and its successors; a negative height means rows stored top-down.
  bmp: (view) => ({
    width: Math.abs(view.getInt32(18, true)),
    height: Math.abs(view.getInt32(22, true)),
  }),
  webp: webpDimensions,
};

/** The frame header (SOFn) holds the size; markers before it are skipped by their lengths. */
function jpegDimensions(view: DataView): Dimensions | null {
  let at = 2;
  for (;;) {
    if (view.getUint8(at) !== 0xff) return null;
    const marker = view.getUint8(at + 1);
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC)
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: view.getUint16(at + 5), width: view.getUint16(at + 7) };
    }
    if (marker === 0xd9 || marker === 0xda) return null; // end of image, or scan data, first
    at += 2 + view.getUint16(at + 2);
  }
}

const TIFF_WIDTH = 256;
const TIFF_LENGTH = 257;
const TIFF_SHORT = 3;

/** Tags ImageWidth and ImageLength of the first image file directory. */
function tiffDimensions(view: DataView): Dimensions | null {
  const little = view.getUint8(0) === 0x49;
  const ifd = view.getUint32(4, little);
  const entries = view.getUint16(ifd, little);
  let width = 0;
  let height = 0;
  for (let i = 0; i < entries; i++) {
    const entry = ifd + 2 + i * 12;
    const tag = view.getUint16(entry, little);
    if (tag !== TIFF_WIDTH && tag !== TIFF_LENGTH) continue;
    const value =
      view.getUint16(entry + 2, little) === TIFF_SHORT
        ? view.getUint16(entry + 8, little)
        : view.getUint32(entry + 8, little);
    if (tag === TIFF_WIDTH) width = value;
    else height = value;
  }
  return { width, height };
}

/** The first chunk after RIFF....WEBP: lossy (VP8 ), lossless (VP8L) or extended (VP8X). */
function webpDimensions(view: DataView): Dimensions | null {
  const chunk = String.fromCharCode(
    view.getUint8(12),
    view.getUint8(13),
    view.getUint8(14),
    view.getUint8(15),
  );
  if (chunk === 'VP8 ') {
    return { width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff };
  }
  if (chunk === 'VP8L') {
    const bits = view.getUint32(21, true);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8X') {
    const uint24 = (at: number) => view.getUint16(at, true) | (view.getUint8(at + 2) << 16);
    return { width: uint24(24) + 1, height: uint24(27) + 1 };
  }
  return null;
}
