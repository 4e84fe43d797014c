import type { TestApp } from '../support/app.ts';
import { ADMIN_TOKEN } from '../support/app.ts';

let counter = 0;

/** A valid import record with a text no other call returns (unless `text` is given). */
export function record(overrides: Record<string, unknown> = {}) {
  counter += 1;
  return {
    title: `Dokument ${counter}`,
    text: `Die Schülerinnen und Schüler der Schule ${counter} nehmen regelmäßig am Unterricht teil.`,
    bundesland: 'NW',
    docType: 'schulordnung',
    trainingAllowed: true,
    source: 'test',
    ...overrides,
  };
}

export const jsonl = (lines: unknown[]) =>
  lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n');

/** A byte stream of these lines, `chunkSize` bytes at a time (to cross line boundaries). */
export async function* bytes(text: string, chunkSize = 7): AsyncGenerator<Uint8Array> {
  const all = new TextEncoder().encode(text);
  for (let i = 0; i < all.length; i += chunkSize) yield all.subarray(i, i + chunkSize);
}

/** POSTs `importDocuments` as a real GraphQL multipart request (operations, map, file). */
export async function uploadJsonl(
  app: TestApp,
  content: string | Blob,
  { token = ADMIN_TOKEN }: { token?: string } = {},
) {
  const form = new FormData();
  form.append(
    'operations',
    JSON.stringify({
      query:
        'mutation ($file: File!) { importDocuments(file: $file) { added skipped rejected errors } }',
      variables: { file: null },
    }),
  );
  form.append('map', JSON.stringify({ 0: ['variables.file'] }));
  form.append('0', new File([content], 'docs.jsonl', { type: 'application/jsonl' }));
  const response = await app.yoga.fetch('http://test/graphql', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  return {
    status: response.status,
    ...((await response.json()) as {
      data?: {
        importDocuments: { added: number; skipped: number; rejected: number; errors: string[] };
      } | null;
      errors?: { message: string; extensions?: Record<string, unknown> }[];
    }),
  };
}
