/** How many operations are remembered: far more than the subscriptions an app's clients send. */
const KNOWN_SIZE = 512;

/**
 * The subscriptions (query text and operation name) that passed parsing, validation (operation
 * limits included) and the trusted-documents check once and whose stream went on the fast path:
 * only these are set up by the fast set-up (fast-setup.ts), which skips validation. Whether a
 * text passes depends on the text alone, so a remembered one never goes stale. Bounded, the
 * most recently used kept.
 */
export class KnownSubscriptions {
  /** Operation names by query text (null for none: '' names no operation). */
  readonly #known = new Map<string, Set<string | null>>();

  constructor(private readonly size = KNOWN_SIZE) {}

  has(query: string, operationName: string | null | undefined): boolean {
    const known = this.#known.get(query);
    if (!known?.has(operationName ?? null)) return false;
    // most recently used last, so that the first is the one to evict
    this.#known.delete(query);
    this.#known.set(query, known);
    return true;
  }

  add(query: string, operationName: string | null | undefined): void {
    const names = this.#known.get(query) ?? new Set<string | null>();
    names.add(operationName ?? null);
    this.#known.delete(query);
    if (this.#known.size >= this.size) {
      this.#known.delete(this.#known.keys().next().value as string);
    }
    this.#known.set(query, names);
  }
}
