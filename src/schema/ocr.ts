import type { ImageResult } from '../db/ocr-tables.ts';
import type { OcrCompleteEvent, OcrEvent, OcrProgressEvent } from '../events/ocr-events.ts';
import type { OcrBatch } from '../ocr/batches.ts';
import { IMAGE_TYPES, MAX_IMAGES_PER_BATCH, OCR_LANGUAGES } from '../vocabulary/ocr.ts';
import { builder } from './builder.ts';
import { encodeGlobalID, rowId } from './global-ids.ts';

const OcrBatchRef = builder.loadableNodeRef<OcrBatch, string, string>('OcrBatch', {
  id: { resolve: (batch) => batch.id },
  load: async (ids, ctx) => {
    const byId = new Map((await ctx.ocr.getBatchesByIds(ids)).map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id) ?? new Error(`not found: ${id}`));
  },
});

const batchGlobalId = (id: string) => encodeGlobalID('OcrBatch', id);

const OcrResult = builder.objectRef<ImageResult>('OcrResult').implement({
  description: 'The result of one image: its text, or why there is none.',
  fields: (t) => ({
    index: t.exposeInt('index', { description: 'Position of the image in the upload, from 0.' }),
    filename: t.exposeString('filename', { nullable: true, description: 'As uploaded.' }),
    text: t.exposeString('text', { nullable: true, description: 'Null when `error` is set.' }),
    confidence: t.exposeFloat('confidence', {
      nullable: true,
      description: "The engine's mean word confidence, 0..1. Null when `error` is set.",
    }),
    processingTimeMs: t.exposeInt('processingTimeMs', {
      description: 'Time taken to read the image (or to find it in the cache).',
    }),
    fromCache: t.exposeBoolean('fromCache', {
      description:
        'Whether the same bytes were read before, in the same language, by the same engine.',
    }),
    error: t.exposeString('error', {
      nullable: true,
      description:
        'Why the file has no text: not an image, a corrupt one, or one of too many pixels.',
    }),
  }),
});

OcrBatchRef.implement({
  description: 'Images read together; created by `createOcrBatch`, processed in the background.',
  fields: (t) => ({
    status: t.exposeString('status', { description: 'PENDING, PROCESSING or COMPLETED.' }),
    total: t.exposeInt('total', { description: 'Images in the batch.' }),
    processed: t.exposeInt('processed', { description: 'Images with a result.' }),
    language: t.exposeString('language'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    completedAt: t.expose('completedAt', { type: 'DateTime', nullable: true }),
    results: t.field({
      type: [OcrResult],
      description: 'The images with a result so far, in the order they finished.',
      resolve: (batch, _args, ctx) => batch.finished ?? ctx.ocr.finishedResults(batch.id),
    }),
  }),
});

const OcrImageProgress = builder.objectRef<OcrProgressEvent>('OcrImageProgress').implement({
  description: 'One image of the batch got its result.',
  fields: (t) => ({
    batchId: t.id({ resolve: (event) => batchGlobalId(event.batchId) }),
    current: t.exposeInt('current', {
      description: 'Images with a result now, this one included.',
    }),
    total: t.exposeInt('total'),
    progressPercent: t.exposeFloat('progressPercent', { description: '0..100.' }),
    elapsedMs: t.exposeInt('elapsedMs', {
      description: 'From the start of processing to this result.',
    }),
    estimatedRemainingMs: t.exposeInt('estimatedRemainingMs', {
      description: 'For the remaining images, at the rate measured so far.',
    }),
    result: t.field({ type: OcrResult, resolve: (event) => event.result }),
  }),
});

const OcrBatchComplete = builder.objectRef<OcrCompleteEvent>('OcrBatchComplete').implement({
  description: 'Every image of the batch has its result.',
  fields: (t) => ({
    batchId: t.id({ resolve: (event) => batchGlobalId(event.batchId) }),
    totalTimeMs: t.exposeInt('totalTimeMs', { description: 'From the start of processing.' }),
    processedCount: t.exposeInt('processedCount'),
    failedCount: t.exposeInt('failedCount', { description: 'Images whose result is an error.' }),
  }),
});

const OcrBatchEvent = builder.unionType('OcrBatchEvent', {
  types: [OcrImageProgress, OcrBatchComplete],
  resolveType: (event) => (event.kind === 'progress' ? OcrImageProgress : OcrBatchComplete),
});

builder.queryField('ocrBatch', (t) =>
  t.field({
    type: OcrBatchRef,
    nullable: true,
    authScopes: { viewer: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => (await ctx.ocr.getBatch(rowId(id, 'OcrBatch'))) ?? null,
  }),
);

builder.mutationField('createOcrBatch', (t) =>
  t.field({
    type: OcrBatchRef,
    authScopes: { admin: true },
    description: `Reads the text of 1..${MAX_IMAGES_PER_BATCH} images (${IMAGE_TYPES.join(', ')}; the type is told from the bytes). Returns at once; follow the batch with the \`ocrBatch\` subscription. A file that is no image, or a corrupt one, gets a result with \`error\`; an image over the size limit fails the request (PAYLOAD_TOO_LARGE).`,
    args: {
      images: t.arg({ type: ['File'], required: true }),
      language: t.arg.string({
        defaultValue: 'deu',
        description: `One of ${OCR_LANGUAGES.join(', ')}.`,
      }),
    },
    resolve: (_root, { images, language }, ctx) => ctx.ocr.createBatch(images, language),
  }),
);

builder.subscriptionField('ocrBatch', (t) =>
  t.field({
    type: OcrBatchEvent,
    authScopes: { viewer: true },
    description:
      'Replays the results already done, then one event per image as it finishes, then OcrBatchComplete; then completes.',
    args: { batchId: t.arg.id({ required: true }) },
    subscribe: (_root, { batchId }, ctx) => ctx.ocr.watch(rowId(batchId, 'OcrBatch', 'batchId')),
    resolve: (event: OcrEvent) => event,
  }),
);
