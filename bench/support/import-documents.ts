/**
 * Imports JSON Lines documents into a running API the way staff do: `importDocuments` as a
 * GraphQL multipart request. Throws on GraphQL errors.
 */
export async function importDocuments(graphqlUrl: string, token: string, jsonl: string) {
  const form = new FormData();
  form.append(
    'operations',
    JSON.stringify({
      query: 'mutation ($file: File!) { importDocuments(file: $file) { added rejected } }',
      variables: { file: null },
    }),
  );
  form.append('map', JSON.stringify({ 0: ['variables.file'] }));
  form.append('0', new File([jsonl], 'documents.jsonl', { type: 'application/jsonl' }));
  const res = await fetch(graphqlUrl, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  const json = (await res.json()) as { data?: unknown; errors?: unknown };
  if (json.errors || !json.data) throw new Error(`importDocuments: ${JSON.stringify(json)}`);
}
