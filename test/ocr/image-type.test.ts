import { expect, test } from 'vitest';
import { detectImageType } from '../../src/ocr/image-type.ts';
import { renderText } from './images.ts';

const bytes = (...values: number[]) => new Uint8Array([...values, 0, 0, 0, 0, 0, 0, 0, 0]);

test('tells the five image types from their magic bytes', () => {
  expect(detectImageType(renderText(['x']))).toBe('png');
  expect(detectImageType(renderText(['x'], { format: 'jpeg' }))).toBe('jpeg');
  expect(detectImageType(renderText(['x'], { format: 'webp' }))).toBe('webp');
  expect(detectImageType(renderText(['x'], { format: 'bmp' }))).toBe('bmp');
  expect(detectImageType(renderText(['x'], { format: 'tiff' }))).toBe('tiff');
  expect(detectImageType(bytes(0x49, 0x49, 0x2a, 0x00))).toBe('tiff');
  expect(detectImageType(bytes(0x4d, 0x4d, 0x00, 0x2a))).toBe('tiff');
  expect(detectImageType(bytes(0x42, 0x4d))).toBe('bmp');
});

test('anything else is no image', () => {
  expect(detectImageType(new Uint8Array())).toBeNull();
  expect(detectImageType(new TextEncoder().encode('%PDF-1.7'))).toBeNull();
  expect(
    detectImageType(new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg">')),
  ).toBeNull();
  // a RIFF file that is not WebP (a WAVE sound)
  expect(detectImageType(new TextEncoder().encode('RIFF\x24\x00\x00\x00WAVEfmt '))).toBeNull();
  // the first bytes of a PNG signature only
  expect(detectImageType(new Uint8Array([0x89, 0x50, 0x4e, 0x47]))).toBeNull();
});
