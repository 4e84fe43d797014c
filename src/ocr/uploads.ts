import { createHash } from 'node:crypto';
import { AppError, badInput, ErrorCode } from '../vocabulary/errors.ts';
import { MAX_IMAGES_PER_BATCH, OCR_LANGUAGES, type OcrLanguage } from '../vocabulary/ocr.ts';
import type { StoredUpload } from './batches.ts';
import { imageDimensions } from './image-size.ts';
import { detectImageType } from './image-type.ts';

export function parseLanguage(value: string | null | undefined): OcrLanguage {
  const language = OCR_LANGUAGES.find((l) => l === value);
  if (!language) {
    throw badInput('language', `language must be one of ${OCR_LANGUAGES.join(', ')}`);
  }
  return language;
}

const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** Checks the number and sizes of the files before any of them is read. */
export function checkUploads(files: readonly File[], maxImageBytes: number): void {
  if (files.length < 1 || files.length > MAX_IMAGES_PER_BATCH) {
    throw badInput(
      'images',
      `images must hold 1..${MAX_IMAGES_PER_BATCH} files (got ${files.length})`,
    );
  }
  files.forEach((file, index) => {
    if (file.size > maxImageBytes) {
      throw new AppError(
        ErrorCode.PAYLOAD_TOO_LARGE,
        `images.${index} (${file.name || 'unnamed'}) is ${megabytes(file.size)}; each image may be at most ${maxImageBytes} bytes (${megabytes(maxImageBytes)})`,
        `images.${index}`,
      );
    }
  });
}

/** The file's bytes with what the batch keeps about them: content hash and detected type. */
export async function readUpload(file: File): Promise<StoredUpload> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const imageType = detectImageType(bytes);
  return {
    filename: file.name || null,
    bytes,
    byteSize: bytes.byteLength,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    imageType,
    dimensions: imageType && imageDimensions(bytes, imageType),
  };
}
