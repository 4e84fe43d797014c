/**
 * A fan-out bench client process: holds many raw SSE connections (node:http, keep-alive agent)
 * and measures, per event, the delay from the time stamped in it to its receipt. Driven by
 * run.ts over IPC: `measure` resets the counters, `report` sends them, `close` ends it.
 */
import { Agent, request } from 'node:http';
import { type ClientsConfig, type ClientsReport, HISTOGRAM_MS } from './protocol.ts';

const CONNECT_SECONDS = Number(process.env.BENCH_CONNECT_SECONDS ?? 300);

const config = JSON.parse(process.env.BENCH_CLIENTS ?? '{}') as ClientsConfig;
const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
const target = new URL(config.url);
const histogram = new Uint32Array(HISTOGRAM_MS + 1);
const setupHistogram = new Uint32Array(HISTOGRAM_MS + 1);
const events = new Uint32Array(config.count);
const opened = new Uint8Array(config.count);
const streams: Array<{ destroy(): void }> = [];
let connected = 0;
let failed = 0;
let measuring = false;
let windowStart = 0;

const API_STAMP = /"timestamp":"([^"]+)"/g;
const PROTOTYPE_STAMP = /"elapsed_time_ms": (\d+)/;

function record(message: string, index: number): void {
  if (!measuring) return;
  const now = Date.now();
  let stamps: number[];
  if (config.kind === 'api') {
    if (!message.startsWith('event: next')) return;
    stamps = [...message.matchAll(API_STAMP)].map((m) => Date.parse(m[1]!));
  } else {
    const elapsed = message.match(PROTOTYPE_STAMP);
    if (!elapsed) return;
    stamps = [(config.startedAtMs ?? 0) + Number(elapsed[1])];
  }
  events[index]! += 1;
  for (const stamp of stamps) histogram[Math.min(HISTOGRAM_MS, Math.max(0, now - stamp))]! += 1;
}

function open(index: number): Promise<void> {
  return new Promise((resolve) => {
    let first = true;
    const sent = Date.now();
    const done = (ok: boolean) => {
      if (!first) return;
      first = false;
      if (ok) setupHistogram[Math.min(HISTOGRAM_MS, Date.now() - sent)]! += 1;
      if (ok) connected += 1;
      else failed += 1;
      opened[index] = ok ? 1 : 0;
      resolve();
    };
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: config.body ? 'POST' : 'GET',
        agent,
        headers: {
          accept: 'text/event-stream',
          ...(config.body ? { 'content-type': 'application/json' } : {}),
          ...config.headers,
        },
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          done(false);
          return;
        }
        res.setEncoding('utf8');
        let buffer = '';
        res.on('data', (chunk: string) => {
          buffer += chunk;
          for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
            const message = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            if (message.startsWith(':')) continue;
            // Subscribed once the first update (not an error) arrived.
            done(!message.includes('"errors"'));
            record(message, index);
          }
        });
        res.on('error', () => done(false));
        res.on('end', () => done(false));
      },
    );
    req.setTimeout(120_000, () => req.destroy());
    req.on('error', () => done(false));
    req.end(config.body);
    streams.push(req);
  });
}

let opening = true;

/**
 * Opens every stream, `config.parallel` at a time (a few hundred by default: a burst of 10,000
 * SYNs overflows the listen backlog, which a burst run measures on purpose). A server that
 * cannot take them all gets CONNECT_SECONDS; then opening stops, so that connecting does not go
 * on during the measurement.
 */
async function connectAll(): Promise<void> {
  const { parallel } = config;
  let next = 0;
  const all = Promise.all(
    Array.from({ length: parallel }, async () => {
      while (opening && next < config.count) await open(next++);
    }),
  );
  await Promise.race([all, new Promise((r) => setTimeout(r, CONNECT_SECONDS * 1000).unref())]);
  opening = false;
}

process.on('message', (message: { type: string }) => {
  if (message.type === 'measure') {
    events.fill(0);
    histogram.fill(0);
    windowStart = Date.now();
    measuring = true;
  } else if (message.type === 'report') {
    measuring = false;
    const report: ClientsReport = {
      connected,
      failed,
      events: [...events].filter((_, i) => opened[i] === 1),
      histogram: [...histogram],
      setupHistogram: [...setupHistogram],
      windowMs: Date.now() - windowStart,
    };
    process.send?.({ type: 'report', report });
  } else if (message.type === 'close') {
    opening = false;
    for (const stream of streams) stream.destroy();
    agent.destroy();
    process.disconnect();
  }
});

await connectAll();
process.send?.({ type: 'connected', connected, failed });
