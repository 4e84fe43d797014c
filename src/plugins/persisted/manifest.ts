import { readFileSync } from 'node:fs';
import { parse } from 'graphql';
import { z } from 'zod';

/** Apollo's persisted-query manifest (`generate-persisted-query-manifest`). */
const apolloManifest = z.object({
  format: z.literal('apollo-persisted-query-manifest'),
  version: z.literal(1),
  operations: z.array(z.object({ id: z.string().min(1), body: z.string().min(1) })),
});

/** GraphQL Code Generator's client preset (`persistedDocuments`): `{ "<hash>": "<document>" }`. */
const codegenManifest = z.record(z.string().min(1), z.string().min(1));

/** The documents of a trusted-documents manifest (TRUSTED_DOCUMENTS): the only ones that run. */
export class TrustedDocuments {
  readonly #byId: ReadonlyMap<string, string>;
  readonly #bodies: ReadonlySet<string>;

  constructor(entries: ReadonlyArray<readonly [id: string, body: string]>) {
    this.#byId = new Map(entries);
    this.#bodies = new Set(entries.map(([, body]) => body));
  }

  /** Reads either manifest format; a document that does not parse is refused here, at start. */
  static fromFile(file: string): TrustedDocuments {
    const json: unknown = JSON.parse(readFileSync(file, 'utf8'));
    const apollo = apolloManifest.safeParse(json);
    const entries = apollo.success
      ? apollo.data.operations.map(({ id, body }) => [id, body] as const)
      : Object.entries(parseCodegen(json, file));
    for (const [id, body] of entries) {
      try {
        parse(body);
      } catch (error) {
        throw new Error(`TRUSTED_DOCUMENTS: document ${id} in ${file}: ${String(error)}`);
      }
    }
    return new TrustedDocuments(entries);
  }

  document(id: string): string | undefined {
    return this.#byId.get(id);
  }

  /** Whether `text` is one of the documents, as listed (sent in full instead of by id). */
  lists(text: string): boolean {
    return this.#bodies.has(text);
  }

  get size(): number {
    return this.#byId.size;
  }
}

function parseCodegen(json: unknown, file: string): Record<string, string> {
  const codegen = codegenManifest.safeParse(json);
  if (!codegen.success) {
    throw new Error(
      `TRUSTED_DOCUMENTS: ${file} is neither { "<hash>": "<document>" } nor an apollo-persisted-query-manifest, version 1`,
    );
  }
  return codegen.data;
}
