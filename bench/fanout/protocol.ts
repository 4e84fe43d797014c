/** What run.ts and its client processes (clients.ts) exchange. */
export type ClientsConfig = {
  kind: 'api' | 'prototype';
  url: string;
  count: number;
  /** POST body (api) or nothing (prototype: GET). */
  body?: string;
  headers: Record<string, string>;
  /** Prototype: when its job started (its events carry the time since then). */
  startedAtMs?: number;
  /** Streams being opened at once (a few hundred; their count for a burst). */
  parallel: number;
};

export type ClientsReport = {
  connected: number;
  failed: number;
  /** Events each connected stream received in the measuring window. */
  events: number[];
  /**
   * Delivery delays in ms, one per event, from its newest time stamp: one bucket per ms (the
   * last one: anything longer).
   */
  histogram: number[];
  /** The age of every time stamp (metric point) at its receipt, in the same buckets. */
  pointAgeHistogram: number[];
  /** From sending each stream's request to its first update, in ms (the same buckets). */
  setupHistogram: number[];
  windowMs: number;
  /** CPU seconds this client process spent in the measuring window. */
  cpuS: number;
  /** Streams that got no first update, by reason (`status 503`, `error ECONNRESET`, ...). */
  failures: Record<string, number>;
  /** Subscribed streams that broke off before the end, by reason. */
  drops: Record<string, number>;
};

export const HISTOGRAM_MS = 30_000;
