import type { ImportResult } from '../dataset/import.ts';
import type { CountByKey, DatasetStats } from '../dataset/stats.ts';
import type { DocumentRow } from '../db/dataset-tables.ts';
import { BUNDESLAND_CODES } from '../vocabulary/bundeslaender.ts';
import { DOC_TYPES } from '../vocabulary/doc-types.ts';
import { builder } from './builder.ts';
import { connectionOf, pageArgs } from './connections.ts';

const DocumentRef = builder.loadableNodeRef<DocumentRow, string, string>('Document', {
  id: { resolve: (doc) => doc.id },
  load: async (ids, ctx) => {
    const byId = new Map((await ctx.dataset.getDocumentsByIds(ids)).map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id) ?? new Error(`not found: ${id}`));
  },
});

DocumentRef.implement({
  description: 'An imported training document, cut into chunks for training.',
  fields: (t) => ({
    title: t.exposeString('title'),
    text: t.exposeString('text'),
    bundesland: t.exposeString('bundesland', { description: 'State code, e.g. NW.' }),
    docType: t.exposeString('docType', { description: `One of ${DOC_TYPES.join(', ')}.` }),
    trainingAllowed: t.exposeBoolean('trainingAllowed', {
      description: 'Whether jobs may train on it.',
    }),
    source: t.exposeString('source', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was imported.' }),
    chunkCount: t.exposeInt('chunkCount', { description: 'Training chunks cut from the text.' }),
  }),
});

const DocumentConnection = builder.connectionObject({
  type: DocumentRef,
  name: 'DocumentConnection',
  description: 'A page of documents, newest first.',
});

const CountByKeyRef = builder.objectRef<CountByKey>('CountByKey').implement({
  fields: (t) => ({ key: t.exposeString('key'), count: t.exposeInt('count') }),
});

const DatasetStatsRef = builder.objectRef<DatasetStats>('DatasetStats').implement({
  description: 'Real counts from the stored documents.',
  fields: (t) => ({
    totalDocuments: t.exposeInt('totalDocuments'),
    totalChunks: t.exposeInt('totalChunks'),
    trainingAllowed: t.exposeInt('trainingAllowed', {
      description: 'Documents that may be trained on.',
    }),
    trainingAllowedChunks: t.exposeInt('trainingAllowedChunks', {
      description: 'Chunks of those documents: the examples a job on these states would get.',
    }),
    byBundesland: t.field({
      type: [CountByKeyRef],
      description: 'Documents per state code: every state in scope, zeros included.',
      resolve: (stats) => stats.byBundesland,
    }),
    byDocType: t.field({
      type: [CountByKeyRef],
      description: 'Documents per document type, zeros included.',
      resolve: (stats) => stats.byDocType,
    }),
  }),
});

const ImportResultRef = builder.objectRef<ImportResult>('ImportResult').implement({
  description: 'What an import did. Each stored batch is complete: no half-written document.',
  fields: (t) => ({
    added: t.exposeInt('added'),
    skipped: t.exposeInt('skipped', {
      description: 'Lines whose text was already stored (or repeated in the file).',
    }),
    rejected: t.exposeInt('rejected', { description: 'Invalid lines; the others still load.' }),
    errors: t.exposeStringList('errors', {
      description: '`line N: reason` for the first 100 rejected lines.',
    }),
  }),
});

builder.queryFields((t) => ({
  datasetStats: t.field({
    type: DatasetStatsRef,
    authScopes: { viewer: true },
    description:
      'Counts of the stored documents; with `bundeslaender`, only of those states (a preview of what a job on them would train on).',
    args: {
      bundeslaender: t.arg.stringList({
        description: `Only these state codes: ${BUNDESLAND_CODES.join(' ')}.`,
      }),
    },
    resolve: (_root, { bundeslaender }, ctx) => ctx.dataset.stats(bundeslaender),
  }),
  documents: t.field({
    type: DocumentConnection,
    authScopes: { viewer: true },
    description: 'Stored documents, newest first (Relay connection).',
    args: {
      ...pageArgs,
      bundesland: t.arg.string({ description: 'Only this state code.' }),
      docType: t.arg.string({ description: `Only this type: ${DOC_TYPES.join(', ')}.` }),
    },
    resolve: (_root, args, ctx) => connectionOf(args, ctx, ctx.dataset.listDocuments),
  }),
}));

builder.mutationFields((t) => ({
  importDocuments: t.field({
    type: ImportResultRef,
    authScopes: { admin: true },
    description:
      'Imports documents from a JSON Lines file, one `{"title","text","bundesland","docType","trainingAllowed","source"}` a line. Bad lines are rejected with their line number; the rest load; a text already stored is skipped. The request may have at most MAX_UPLOAD_BYTES (default 100 MiB), the file MAX_UPLOAD_FILE_BYTES (default 50 MiB) (PAYLOAD_TOO_LARGE); bigger files go through `npm run import`.',
    args: { file: t.arg({ type: 'File', required: true }) },
    resolve: (_root, { file }, ctx) => ctx.dataset.importStream(file.stream()),
  }),
}));
