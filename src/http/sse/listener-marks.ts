import type { EventEmitter } from 'node:events';

type Listener = (...args: unknown[]) => void;

const marks = new WeakMap<EventEmitter, Map<string | symbol, Listener[]>>();

/** Remembers the listeners `emitter` has now, so that those added later can be dropped. */
export function markListeners(emitter: EventEmitter): void {
  marks.set(
    emitter,
    new Map(
      emitter.eventNames().map((event) => [event, emitter.rawListeners(event) as Listener[]]),
    ),
  );
}

/**
 * Removes the listeners added since `markListeners(emitter)` (what a library hung on a Node
 * request or response, and with it everything those listeners hold). False if never marked.
 */
export function dropListenersSinceMark(emitter: EventEmitter): boolean {
  const mark = marks.get(emitter);
  if (!mark) return false;
  marks.delete(emitter);
  for (const event of emitter.eventNames()) {
    const kept = mark.get(event) ?? [];
    for (const listener of emitter.rawListeners(event) as Listener[]) {
      if (!kept.includes(listener)) emitter.removeListener(event, listener);
    }
  }
  return true;
}

export const isMarked = (emitter: EventEmitter) => marks.has(emitter);
