/**
 * Where a push source delivers. `next` may return a promise: the source then holds back (and
 * merges) what comes next until it settles, so values arrive in order, one at a time.
 */
export type PushSink<T> = {
  next(value: T): Promise<void> | undefined;
  /** After the last value, or once the source was returned. Called once. */
  end(): void;
};

/** An async iterator that can switch to pushing its values instead of being pulled. */
export interface PushSource<T> extends AsyncIterableIterator<T> {
  /** Nothing more will come. */
  readonly ended: boolean;
  /** From now on, values go to `sink` as soon as they are ready; next() must not be called again. */
  pushTo(sink: PushSink<T>): void;
}

export const isPushSource = <T>(iterator: AsyncIterator<T>): iterator is PushSource<T> =>
  typeof (iterator as Partial<PushSource<T>>).pushTo === 'function';
