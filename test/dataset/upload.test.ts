import { afterEach, beforeEach, expect, test } from 'vitest';
import { createTestApp, ok, type TestApp, VIEWER_TOKEN } from '../support/app.ts';
import { jsonl, record, uploadJsonl } from './helpers.ts';

let app: TestApp;
beforeEach(async () => {
  app = await createTestApp();
});
afterEach(() => app.close());

test('importDocuments takes a multipart upload and follows the import rules', async () => {
  const dup = record({ bundesland: 'BY' });
  const file = jsonl([dup, record({ bundesland: 'BY' }), '{nope', dup, record({ docType: 'x' })]);
  const first = await uploadJsonl(app, file);
  expect(first.errors).toBeUndefined();
  expect(first.data?.importDocuments).toEqual({
    added: 2,
    skipped: 1,
    rejected: 2,
    errors: [
      expect.stringMatching(/^line 3: not valid JSON/),
      expect.stringMatching(/^line 5: docType must be one of/),
    ],
  });
  const again = await uploadJsonl(app, file);
  expect(again.data?.importDocuments).toMatchObject({ added: 0, skipped: 3, rejected: 2 });

  const stats = ok(
    await app.gql<{ datasetStats: { totalDocuments: number } }>(
      '{ datasetStats(bundeslaender: ["BY"]) { totalDocuments } }',
    ),
  );
  expect(stats.datasetStats.totalDocuments).toBe(2);
});

test('only an admin may import', async () => {
  const result = await uploadJsonl(app, jsonl([record()]), { token: VIEWER_TOKEN });
  expect(result.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
  const anonymous = await uploadJsonl(app, jsonl([record()]), { token: '' });
  expect(anonymous.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
});

// The upload limit applies where node:http receives a request: test/hardening/body-limits.test.ts.
