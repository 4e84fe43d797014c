import type { APQStore } from '@graphql-yoga/plugin-apq';

/**
 * Automatic Persisted Queries' documents by hash. Anyone may register a document (that is what
 * APQ is), so the store is bounded by the bytes of text it keeps, not by a count: the least
 * recently used go first.
 */
export class BoundedDocumentStore implements APQStore {
  readonly #documents = new Map<string, { text: string; bytes: number }>();
  #bytes = 0;

  constructor(readonly maxBytes: number) {}

  get(hash: string): string | null {
    const entry = this.#documents.get(hash);
    if (!entry) return null;
    // Map keeps insertion order: moving an entry to the end marks it most recently used.
    this.#documents.delete(hash);
    this.#documents.set(hash, entry);
    return entry.text;
  }

  set(hash: string, text: string): void {
    const bytes = Buffer.byteLength(text);
    if (bytes > this.maxBytes) return;
    this.#remove(hash);
    this.#documents.set(hash, { text, bytes });
    this.#bytes += bytes;
    for (const oldest of this.#documents.keys()) {
      if (this.#bytes <= this.maxBytes) break;
      this.#remove(oldest);
    }
  }

  #remove(hash: string): void {
    const entry = this.#documents.get(hash);
    if (!entry) return;
    this.#documents.delete(hash);
    this.#bytes -= entry.bytes;
  }
}
