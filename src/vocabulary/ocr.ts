/** Languages a batch may ask for: German, English, or both models at once. */
export const OCR_LANGUAGES = ['deu', 'eng', 'deu+eng'] as const;
export type OcrLanguage = (typeof OCR_LANGUAGES)[number];

/** PENDING: stored, not started; PROCESSING: images being read; COMPLETED: every image has a result. */
export const OCR_BATCH_STATUSES = ['PENDING', 'PROCESSING', 'COMPLETED'] as const;
export type OcrBatchStatus = (typeof OCR_BATCH_STATUSES)[number];

export const MAX_IMAGES_PER_BATCH = 100;

/** The image formats OCR reads (detected from their bytes, ocr/image-type.ts). */
export const IMAGE_TYPES = ['png', 'jpeg', 'tiff', 'bmp', 'webp'] as const;
export type ImageType = (typeof IMAGE_TYPES)[number];
