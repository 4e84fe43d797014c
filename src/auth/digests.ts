import { createHash } from 'node:crypto';

/** How many strings each memo remembers: far more than the tokens a deployment hands out. */
const MEMO_SIZE = 1024;

/**
 * `compute` of a string, remembered for the most recently used `size` strings. A digest depends
 * on its input alone, so a remembered one is never stale, whatever tokens are valid since; what
 * a string is allowed stays the business of whoever compares the digest. A lookup hashes the
 * whole string with V8's seeded hash, so a near miss takes no longer than any other miss.
 */
export class DigestMemo<D> {
  readonly #digests = new Map<string, D>();

  constructor(
    private readonly compute: (value: string) => D,
    private readonly size = MEMO_SIZE,
  ) {}

  of(value: string): D {
    let digest = this.#digests.get(value);
    if (digest !== undefined) {
      // most recently used last, so that the first is the one to evict
      this.#digests.delete(value);
    } else {
      digest = this.compute(value);
      if (this.#digests.size >= this.size) {
        this.#digests.delete(this.#digests.keys().next().value as string);
      }
    }
    this.#digests.set(value, digest);
    return digest;
  }

  get remembered(): number {
    return this.#digests.size;
  }
}

export const sha256 = (value: string) => createHash('sha256').update(value).digest();
