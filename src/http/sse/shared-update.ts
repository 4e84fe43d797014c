import type { ExecutionResult } from 'graphql';

export type Result = ExecutionResult | Promise<ExecutionResult>;

const CRLF = Buffer.from('\r\n');

/** `message` as one chunk of a chunked HTTP/1.1 body. */
export const httpChunk = (message: Uint8Array): Buffer =>
  Buffer.concat([Buffer.from(`${message.length.toString(16)}\r\n`), message, CRLF]);

/**
 * One update as all its subscribers get it: the value a source yielded (one object per flush
 * for every watcher that passes the flush on unchanged, see training/progress-stream.ts) and,
 * per operation, what executing the operation on it gave, made once on first need. Results and
 * bytes are shared, so nothing may mutate them (plugins that change results return new objects).
 */
export class SharedUpdate {
  readonly #outputs = new Map<string, OperationOutput>();

  constructor(readonly value: unknown) {}

  /** The output of the operation `key` (see plugins/shared-subscription-results.ts). */
  output(key: string, execute: (value: unknown) => Result): OperationOutput {
    let output = this.#outputs.get(key);
    if (!output) {
      output = new OperationOutput(execute(this.value));
      this.#outputs.set(key, output);
    }
    return output;
  }
}

/** One operation executed on one update: the result, then its SSE message and HTTP chunk. */
export class OperationOutput {
  #message: Buffer | undefined;
  #chunk: Buffer | undefined;

  constructor(readonly result: Result) {}

  /** The settled result as an SSE message (`encode` is the same for every caller of an app). */
  message(settled: ExecutionResult, encode: (result: ExecutionResult) => Buffer): Buffer {
    this.#message ??= encode(settled);
    return this.#message;
  }

  /** The message framed as a chunk of a chunked body. */
  chunk(settled: ExecutionResult, encode: (result: ExecutionResult) => Buffer): Buffer {
    this.#chunk ??= httpChunk(this.message(settled, encode));
    return this.#chunk;
  }
}

const updates = new WeakMap<object, SharedUpdate>();

/**
 * The shared update of a value a source yielded: the same for every subscriber that got the
 * same object, so it is built once per flush. Values that are no objects are not shared.
 */
export function sharedUpdateOf(value: unknown): SharedUpdate {
  if (typeof value !== 'object' || value === null) return new SharedUpdate(value);
  let update = updates.get(value);
  if (!update) {
    update = new SharedUpdate(value);
    updates.set(value, update);
  }
  return update;
}
