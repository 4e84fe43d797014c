import { createClient } from 'graphql-sse';
import { ADMIN_TOKEN, type GqlResult, type TestApp } from '../support/app.ts';

export type Upload = { name: string; bytes: Uint8Array };

export const BATCH_FIELDS = `id status total processed language createdAt completedAt
  results { index filename text confidence processingTimeMs fromCache error }`;

export type OcrResult = {
  index: number;
  filename: string | null;
  text: string | null;
  confidence: number | null;
  processingTimeMs: number;
  fromCache: boolean;
  error: string | null;
};
export type OcrBatch = {
  id: string;
  status: string;
  total: number;
  processed: number;
  language: string;
  createdAt: string;
  completedAt: string | null;
  results: OcrResult[];
};

/** createOcrBatch as a GraphQL multipart request (operations, map, one part per file). */
export async function createBatch(
  app: TestApp,
  uploads: readonly Upload[],
  { language, token = ADMIN_TOKEN }: { language?: string | null; token?: string | null } = {},
): Promise<GqlResult<{ createOcrBatch: OcrBatch }>> {
  const form = new FormData();
  form.set(
    'operations',
    JSON.stringify({
      query: `mutation ($images: [File!]!, $language: String) {
        createOcrBatch(images: $images, language: $language) { ${BATCH_FIELDS} }
      }`,
      variables: { images: uploads.map(() => null), ...(language !== undefined && { language }) },
    }),
  );
  form.set(
    'map',
    JSON.stringify(Object.fromEntries(uploads.map((_, i) => [`${i}`, [`variables.images.${i}`]]))),
  );
  uploads.forEach((upload, i) => {
    form.set(`${i}`, new Blob([new Uint8Array(upload.bytes)]), upload.name);
  });
  const response = await app.yoga.fetch('http://test/graphql', {
    method: 'POST',
    headers: token ? { authorization: `Bearer ${token}` } : {},
    body: form,
  });
  return { ...(await response.json()), status: response.status };
}

export async function getBatch(app: TestApp, id: string, token?: string) {
  return app.gql<{ ocrBatch: OcrBatch | null }>(
    `query ($id: ID!) { ocrBatch(id: $id) { ${BATCH_FIELDS} } }`,
    { id },
    { token },
  );
}

export type OcrEvent =
  | {
      __typename: 'OcrImageProgress';
      batchId: string;
      current: number;
      total: number;
      progressPercent: number;
      elapsedMs: number;
      estimatedRemainingMs: number;
      result: OcrResult;
    }
  | {
      __typename: 'OcrBatchComplete';
      batchId: string;
      totalTimeMs: number;
      processedCount: number;
      failedCount: number;
    };

/**
 * Every result of the `ocrBatch` subscription over graphql-sse (at /graphql/stream), until the
 * server completes it; in distinct-connections mode unless `singleConnection`.
 */
export async function subscribeToBatch(
  app: TestApp,
  batchId: string,
  {
    token = ADMIN_TOKEN,
    singleConnection = false,
  }: { token?: string | null; singleConnection?: boolean } = {},
) {
  const client = createClient({
    url: 'http://test/graphql/stream',
    fetchFn: app.yoga.fetch,
    retryAttempts: 0,
    singleConnection,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const results: GqlResult<{ ocrBatch: OcrEvent }>[] = [];
  try {
    for await (const result of client.iterate<{ ocrBatch: OcrEvent }>({
      query: `subscription ($batchId: ID!) {
        ocrBatch(batchId: $batchId) {
          __typename
          ... on OcrImageProgress {
            batchId current total progressPercent elapsedMs estimatedRemainingMs
            result { index filename text confidence processingTimeMs fromCache error }
          }
          ... on OcrBatchComplete { batchId totalTimeMs processedCount failedCount }
        }
      }`,
      variables: { batchId },
    })) {
      results.push({ ...(result as GqlResult<{ ocrBatch: OcrEvent }>), status: 200 });
    }
  } finally {
    client.dispose();
  }
  return results;
}

/** The events of a subscription that must have no errors. */
export async function batchEvents(app: TestApp, batchId: string): Promise<OcrEvent[]> {
  const results = await subscribeToBatch(app, batchId);
  return results.map((result) => {
    if (result.errors?.length || !result.data) {
      throw new Error(`subscription error: ${JSON.stringify(result.errors)}`);
    }
    return result.data.ocrBatch;
  });
}
