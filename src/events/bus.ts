/**
 * A typed publish/subscribe bus. Topics are strings; each topic's payload type is declared in
 * `Topics`. This in-memory implementation serves one process; a cross-process transport taps
 * what is published here and delivers what other processes published (see pg-relay.ts).
 */
export type Listener<T> = (payload: T) => void;

export type Tap<Topics extends Record<string, unknown>> = <K extends keyof Topics & string>(
  topic: K,
  payload: Topics[K],
) => void;

export class EventBus<Topics extends Record<string, unknown>> {
  readonly #listeners = new Map<string, Set<Listener<never>>>();
  readonly #taps = new Set<Tap<Topics>>();

  /** An event that happened in this process: local listeners and taps see it. */
  publish<K extends keyof Topics & string>(topic: K, payload: Topics[K]): void {
    this.deliver(topic, payload);
    for (const tap of this.#taps) tap(topic, payload);
  }

  /**
   * Hands an event to this process's listeners only. A relay uses it for events from other
   * processes, so that they are not tapped and sent back out.
   */
  deliver<K extends keyof Topics & string>(topic: K, payload: Topics[K]): void {
    const listeners = this.#listeners.get(topic);
    if (!listeners) return;
    for (const listener of [...listeners]) (listener as Listener<Topics[K]>)(payload);
  }

  subscribe<K extends keyof Topics & string>(topic: K, listener: Listener<Topics[K]>): () => void {
    let set = this.#listeners.get(topic);
    if (!set) {
      set = new Set();
      this.#listeners.set(topic, set);
    }
    set.add(listener as Listener<never>);
    return () => {
      set.delete(listener as Listener<never>);
      if (set.size === 0 && this.#listeners.get(topic) === set) this.#listeners.delete(topic);
    };
  }

  /** Sees every `publish` of every topic (not `deliver`): how a relay learns what to forward. */
  tap(tap: Tap<Topics>): () => void {
    this.#taps.add(tap);
    return () => this.#taps.delete(tap);
  }

  /** Listeners across all topics (leak tests compare it with a baseline). */
  listenerCount(): number {
    let n = 0;
    for (const set of this.#listeners.values()) n += set.size;
    return n;
  }
}
