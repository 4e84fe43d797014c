import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ErrorCode } from '../../src/vocabulary/errors.ts';
import { ADMIN_TOKEN, createTestApp, type TestApp } from '../support/app.ts';

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp({ trainingData: true });
});
afterAll(() => app.close());

const CONTRACT_CODES = new Set<string>(Object.values(ErrorCode));

/** Every answer is a client error (4xx) or carries contract-coded GraphQL errors; never a 5xx. */
async function expectHandled(response: Response) {
  expect(response.status).toBeLessThan(500);
  const text = await response.text();
  if (!text) return;
  let body: { errors?: { extensions?: { code?: string } }[] } | undefined;
  try {
    body = JSON.parse(text);
  } catch {
    expect(response.status).toBeGreaterThanOrEqual(400);
    return;
  }
  for (const error of body?.errors ?? []) {
    expect(CONTRACT_CODES.has(error.extensions?.code ?? '')).toBe(true);
  }
}

const send = (
  body: BodyInit,
  contentType = 'application/json',
  token: string | null = ADMIN_TOKEN,
) =>
  app.yoga.fetch('http://test/graphql', {
    method: 'POST',
    headers: {
      'content-type': contentType,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body,
  });

const OPERATIONS = [
  'query($id: ID!) { trainingJob(id: $id) { id status } }',
  'mutation($id: ID!) { pauseTrainingJob(id: $id) { id } }',
  'mutation($input: TrainingConfigInput!) { createTrainingJob(input: $input) { id } }',
  'query($first: Int, $after: String) { trainingJobs(first: $first, after: $after) { edges { cursor } } }',
  'query($t: String!) { classify(text: $t) { label } }',
  'query($s: [String!]) { datasetStats(bundeslaender: $s) { totalDocuments } }',
];

const anyJson = fc.jsonValue({ maxDepth: 3 });
const weirdNumber = fc.constantFrom(
  'NaN',
  'Infinity',
  '-Infinity',
  '1e400',
  '-0',
  '9007199254740993',
);

describe('malformed and random requests', () => {
  test('random variables for real operations', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...OPERATIONS),
        fc.dictionary(fc.constantFrom('id', 'input', 'first', 'after', 't', 's'), anyJson),
        async (query, variables) => {
          await expectHandled(await send(JSON.stringify({ query, variables })));
        },
      ),
      { numRuns: 150 },
    );
  });

  test('numbers JSON cannot hold, spliced into variables', async () => {
    await fc.assert(
      fc.asyncProperty(weirdNumber, async (number) => {
        const body = `{"query":"mutation($input: TrainingConfigInput!) { createTrainingJob(input: $input) { id } }","variables":{"input":{"name":"n","bundeslaender":["NW"],"batchSize":${number},"learningRate":${number}}}}`;
        await expectHandled(await send(body));
      }),
      { numRuns: 12 },
    );
  });

  test('random bytes, truncated JSON and random unicode bodies', async () => {
    const valid = JSON.stringify({ query: OPERATIONS[3], variables: { first: 5 } });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 300 }),
          fc.nat({ max: valid.length }).map((n) => valid.slice(0, n)),
          fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
        ),
        fc.constantFrom(
          'application/json',
          'application/graphql+json',
          'text/plain',
          'application/x-www-form-urlencoded',
        ),
        async (body, contentType) => {
          await expectHandled(await send(body, contentType));
        },
      ),
      { numRuns: 150 },
    );
  });

  test('huge strings and wrong ids', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ minLength: 0, maxLength: 20 }),
          fc.constant('x'.repeat(200_000)),
          fc.base64String({ maxLength: 60 }),
        ),
        async (id) => {
          await expectHandled(
            await send(JSON.stringify({ query: OPERATIONS[0], variables: { id } })),
          );
          await expectHandled(
            await send(JSON.stringify({ query: OPERATIONS[1], variables: { id } })),
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  test('truncated and malformed multipart bodies', async () => {
    const form = new FormData();
    form.set(
      'operations',
      JSON.stringify({
        query: 'mutation($file: File!) { importDocuments(file: $file) { added } }',
        variables: { file: null },
      }),
    );
    form.set('map', JSON.stringify({ 0: ['variables.file'] }));
    form.set(
      '0',
      new File(
        ['{"title":"t","text":"x","bundesland":"NW","docType":"erlass","trainingAllowed":true}\n'],
        'd.jsonl',
      ),
    );
    const request = new Request('http://test/graphql', { method: 'POST', body: form });
    const contentType = request.headers.get('content-type') ?? '';
    const full = new Uint8Array(await request.arrayBuffer());
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: full.length }), fc.boolean(), async (cut, corrupt) => {
        const bytes = full.slice(0, cut);
        if (corrupt && bytes.length > 10) bytes[Math.floor(bytes.length / 2)] = 0x7b;
        await expectHandled(await send(bytes, contentType));
      }),
      { numRuns: 60 },
    );
  });

  test('the server still answers afterwards', async () => {
    expect((await app.yoga.fetch('http://test/health')).status).toBe(200);
    const ok = await app.gql('{ trainingStatus { totalJobs } }');
    expect(ok.errors).toBeUndefined();
  });
});
