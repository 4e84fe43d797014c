import type { DocumentNode } from 'graphql';

/** How many operations are remembered: far more than the subscriptions an app's clients send. */
const KNOWN_SIZE = 512;

/**
 * The subscriptions (query text and operation name) that passed parsing, validation (operation
 * limits included) and the trusted-documents check once and whose stream went on the fast path,
 * with the document they were parsed to: only these are set up by the fast set-up
 * (fast-setup.ts), which neither parses nor validates. Whether a text passes depends on the text
 * alone, so a remembered one never goes stale. Bounded, the most recently used kept.
 *
 * A crowd that reconnects at once sends a text the process does not know yet many times before
 * its first stream is through: the first one is a trial (`startTrial`), and the others wait for
 * its verdict (`trialOf`) instead of each taking the libraries' longer way.
 */
export class KnownSubscriptions {
  /** The documents by query text and operation name (null for none: '' names no operation). */
  readonly #known = new Map<string, Map<string | null, DocumentNode>>();
  /** The verdicts to come, by operation name and text (see `trialKey`). */
  readonly #trials = new Map<string, Trial>();

  constructor(private readonly size = KNOWN_SIZE) {}

  /** The document of a known subscription, or none if it is not known. */
  documentOf(query: string, operationName: string | null | undefined): DocumentNode | undefined {
    const known = this.#known.get(query);
    const document = known?.get(operationName ?? null);
    if (!known || !document) return undefined;
    // most recently used last, so that the first is the one to evict
    this.#known.delete(query);
    this.#known.set(query, known);
    return document;
  }

  add(query: string, operationName: string | null | undefined, document: DocumentNode): void {
    const names = this.#known.get(query) ?? new Map<string | null, DocumentNode>();
    names.set(operationName ?? null, document);
    this.#known.delete(query);
    if (this.#known.size >= this.size) {
      this.#known.delete(this.#known.keys().next().value as string);
    }
    this.#known.set(query, names);
    if (this.#trials.size > 0) this.#trials.get(trialKey(query, operationName))?.settle(true);
  }

  /** Whether the text is known, once the stream on trial for it is through; none if none is. */
  trialOf(query: string, operationName: string | null | undefined): Promise<boolean> | undefined {
    if (this.#trials.size === 0) return undefined;
    return this.#trials.get(trialKey(query, operationName))?.verdict;
  }

  /**
   * The caller's stream is the trial of a text: `add` settles it; the returned function gives it
   * up (its stream ended without becoming known, or took too long).
   */
  startTrial(query: string, operationName: string | null | undefined): () => void {
    const key = trialKey(query, operationName);
    let settle: (known: boolean) => void = () => {};
    const verdict = new Promise<boolean>((resolve) => {
      settle = (known) => {
        if (this.#trials.get(key) === trial) this.#trials.delete(key);
        resolve(known);
      };
    });
    const trial: Trial = { verdict, settle };
    this.#trials.set(key, trial);
    return () => settle(false);
  }
}

type Trial = { verdict: Promise<boolean>; settle(known: boolean): void };

const trialKey = (query: string, operationName: string | null | undefined) =>
  JSON.stringify([operationName ?? null, query]);
