import { expect, test } from 'vitest';
import { imageDimensions } from '../../src/ocr/image-size.ts';
import { IMAGE_TYPES } from '../../src/vocabulary/ocr.ts';
import { pngHeader, renderText } from './images.ts';

test('reads width and height from the header of all five types', () => {
  for (const format of IMAGE_TYPES) {
    const bytes = renderText(['Größe'], { width: 333, format });
    const dimensions = imageDimensions(bytes, format);
    expect(dimensions, format).toMatchObject({ width: 333 });
    expect(dimensions?.height, format).toBeGreaterThan(20);
  }
});

test('a header cut short or without a size gives null, never a throw', () => {
  for (const format of IMAGE_TYPES) {
    const bytes = renderText(['x'], { format });
    expect(imageDimensions(bytes.subarray(0, 12), format), format).toBeNull();
  }
  // a JPEG whose markers end before a frame header
  expect(imageDimensions(new Uint8Array([0xff, 0xd8, 0xff, 0xd9]), 'jpeg')).toBeNull();
});

test('a declared size is read as declared, however large', () => {
  expect(imageDimensions(pngHeader(30_000, 30_000), 'png')).toEqual({
    width: 30_000,
    height: 30_000,
  });
});
