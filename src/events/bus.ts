/**
 * A typed publish/subscribe bus. Topics are strings; each topic's payload type is declared in
 * `Topics`. This in-memory implementation serves one process; a cross-process transport relays
 * into it (see events/ for the PostgreSQL one).
 */
export type Listener<T> = (payload: T) => void;

export class EventBus<Topics extends Record<string, unknown>> {
  readonly #listeners = new Map<string, Set<Listener<never>>>();

  publish<K extends keyof Topics & string>(topic: K, payload: Topics[K]): void {
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

  /** Listeners across all topics (leak tests compare it with a baseline). */
  listenerCount(): number {
    let n = 0;
    for (const set of this.#listeners.values()) n += set.size;
    return n;
  }
}
