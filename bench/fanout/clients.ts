/**
 * A fan-out bench client process: holds many raw SSE connections and measures the delay of each
 * event and the age of each point it carries at their receipt, from the times stamped in them,
 * and why streams failed or broke off. Driven by run.ts over IPC: `measure` resets the counters,
 * `report` sends them, `close` ends it.
 *
 * The clients stand in for dashboards on other machines but share this one with the server, so
 * they are kept lean: one plain TCP socket per stream (no HTTP client), HTTP chunks and SSE
 * messages found with Buffer searches, one string per update to find its stamps in, and the
 * stamps read digit by digit.
 */
import { connect, type Socket } from 'node:net';
import { type ClientsConfig, type ClientsReport, HISTOGRAM_MS } from './protocol.ts';

const CONNECT_SECONDS = Number(process.env.BENCH_CONNECT_SECONDS ?? 300);

const config = JSON.parse(process.env.BENCH_CLIENTS ?? '{}') as ClientsConfig;
const target = new URL(config.url);
const histogram = new Uint32Array(HISTOGRAM_MS + 1);
const pointAgeHistogram = new Uint32Array(HISTOGRAM_MS + 1);
const setupHistogram = new Uint32Array(HISTOGRAM_MS + 1);
const events = new Uint32Array(config.count);
const opened = new Uint8Array(config.count);
const sockets: Socket[] = [];
let connected = 0;
let failed = 0;
/** Why streams failed before their first update, and why subscribed ones broke off. */
const failures: Record<string, number> = {};
const drops: Record<string, number> = {};
let closing = false;
const count = (counts: Record<string, number>, reason: string) => {
  counts[reason] = (counts[reason] ?? 0) + 1;
};
let measuring = false;
let windowStart = 0;
let cpuAtStart = process.cpuUsage();

const REQUEST = Buffer.from(
  [
    `${config.body ? 'POST' : 'GET'} ${target.pathname}${target.search} HTTP/1.1`,
    `host: ${target.host}`,
    'accept: text/event-stream',
    ...(config.body
      ? ['content-type: application/json', `content-length: ${Buffer.byteLength(config.body)}`]
      : []),
    ...Object.entries(config.headers).map(([name, value]) => `${name}: ${value}`),
    '',
    config.body ?? '',
  ].join('\r\n'),
);
const EMPTY = Buffer.alloc(0);
const HEAD_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');
const MESSAGE_END = Buffer.from('\n\n');
const NEXT = Buffer.from('event: next');
const ERRORS = Buffer.from('"errors"');
const API_STAMP = '"timestamp":"';
const PROTOTYPE_STAMP = Buffer.from('"elapsed_time_ms": ');
const COLON = 0x3a;

function cpuSeconds({ user, system }: NodeJS.CpuUsage): number {
  return (user + system) / 1e6;
}

/** The digits of `text` from `from`, `count` of them, as a number. */
function digitsAt(text: string, from: number, count: number): number {
  let value = 0;
  for (let i = from; i < from + count; i++) value = value * 10 + text.charCodeAt(i) - 0x30;
  return value;
}

/**
 * The time of an ISO stamp (`2026-01-01T00:00:00.000Z`, as JSON carries a DateTime) at `i`, read
 * digit by digit: a training event carries a hundred and more.
 */
function isoTimeAt(text: string, i: number): number {
  return Date.UTC(
    digitsAt(text, i, 4),
    digitsAt(text, i + 5, 2) - 1,
    digitsAt(text, i + 8, 2),
    digitsAt(text, i + 11, 2),
    digitsAt(text, i + 14, 2),
    digitsAt(text, i + 17, 2),
    digitsAt(text, i + 20, 3),
  );
}

const bucket = (ms: number) => Math.min(HISTOGRAM_MS, Math.max(0, ms));

/**
 * One SSE message (`message`: its bytes, no `\n\n`): its delivery delay, from its newest stamp
 * (a training event's newest point was recorded a step or more before the server sent it; the
 * others waited for the flush too), and the age of each of its points.
 */
function record(message: Buffer, index: number): void {
  const now = Date.now();
  if (config.kind === 'api') {
    if (message.indexOf(NEXT) !== 0) return;
    events[index]! += 1;
    // One string per message: searching it is cheaper than a Buffer search per stamp.
    const text = message.toString('latin1');
    let newest = Number.NEGATIVE_INFINITY;
    for (let at = text.indexOf(API_STAMP); at >= 0; at = text.indexOf(API_STAMP, at + 1)) {
      const stamp = isoTimeAt(text, at + API_STAMP.length);
      pointAgeHistogram[bucket(now - stamp)]! += 1;
      if (stamp > newest) newest = stamp;
    }
    if (newest > Number.NEGATIVE_INFINITY) histogram[bucket(now - newest)]! += 1;
    return;
  }
  const at = message.indexOf(PROTOTYPE_STAMP);
  if (at < 0) return;
  const from = at + PROTOTYPE_STAMP.length;
  let end = from;
  while (end < message.length && message[end]! >= 0x30 && message[end]! <= 0x39) end += 1;
  events[index]! += 1;
  const stamp = (config.startedAtMs ?? 0) + Number(message.toString('latin1', from, end));
  histogram[bucket(now - stamp)]! += 1;
  pointAgeHistogram[bucket(now - stamp)]! += 1;
}

/**
 * One stream's bytes: the response head, then the body (HTTP/1.1 chunks or raw) cut into SSE
 * messages. `onMessage` gets each message but comments; `onFailure` a refused or broken stream.
 */
class StreamReader {
  #head: Buffer | null = EMPTY;
  #chunked = false;
  /** Bytes left of the current chunk; -1 while its size line is read. */
  #chunkLeft = -1;
  #sizeLine = EMPTY;
  #pending = EMPTY;

  constructor(
    private readonly onMessage: (message: Buffer) => void,
    private readonly onFailure: (reason: string) => void,
  ) {}

  feed(bytes: Buffer): void {
    if (this.#head) {
      const head = Buffer.concat([this.#head, bytes]);
      const end = head.indexOf(HEAD_END);
      if (end < 0) {
        this.#head = head;
        return;
      }
      const text = head.toString('latin1', 0, end).toLowerCase();
      this.#head = null;
      if (!text.startsWith('http/1.1 200') && !text.startsWith('http/1.0 200')) {
        // the status, or what came instead of a status line
        const reason = text.startsWith('http/1.')
          ? text.slice(9, 12)
          : JSON.stringify(text.slice(0, 60));
        this.onFailure(`status ${reason}`);
        return;
      }
      this.#chunked = text.includes('transfer-encoding: chunked');
      bytes = head.subarray(end + HEAD_END.length);
    }
    if (!this.#chunked) {
      this.#body(bytes);
      return;
    }
    let at = 0;
    while (at < bytes.length) {
      if (this.#chunkLeft < 0) {
        const lineEnd = bytes.indexOf(CRLF, at);
        if (lineEnd < 0) {
          this.#sizeLine = Buffer.concat([this.#sizeLine, bytes.subarray(at)]);
          return;
        }
        const line = Buffer.concat([this.#sizeLine, bytes.subarray(at, lineEnd)]).toString(
          'latin1',
        );
        this.#sizeLine = EMPTY;
        at = lineEnd + CRLF.length;
        // An empty line is the CRLF after a chunk's data; a size of 0 ends the body.
        if (line === '') continue;
        this.#chunkLeft = Number.parseInt(line, 16);
        if (this.#chunkLeft === 0) {
          this.onFailure('ended');
          return;
        }
        continue;
      }
      const take = Math.min(this.#chunkLeft, bytes.length - at);
      this.#body(bytes.subarray(at, at + take));
      at += take;
      this.#chunkLeft -= take;
      if (this.#chunkLeft === 0) this.#chunkLeft = -1;
    }
  }

  #body(data: Buffer): void {
    const bytes = this.#pending.length ? Buffer.concat([this.#pending, data]) : data;
    let start = 0;
    for (let end = bytes.indexOf(MESSAGE_END); end >= 0; end = bytes.indexOf(MESSAGE_END, start)) {
      if (bytes[start] !== COLON) this.onMessage(bytes.subarray(start, end));
      start = end + MESSAGE_END.length;
    }
    // A copy, so that the rest of a message does not hold the whole read in memory.
    this.#pending = start < bytes.length ? Buffer.from(bytes.subarray(start)) : EMPTY;
  }
}

function open(index: number): Promise<void> {
  return new Promise((resolve) => {
    let first = true;
    const sent = Date.now();
    let live = false;
    const done = (ok: boolean, reason = '') => {
      if (!first) {
        // a subscribed stream that breaks off (counted once: an error comes with a close)
        if (!ok && live && !closing) count(drops, reason);
        if (!ok) live = false;
        return;
      }
      first = false;
      live = ok;
      if (!ok) count(failures, reason);
      if (ok) setupHistogram[bucket(Date.now() - sent)]! += 1;
      if (ok) connected += 1;
      else failed += 1;
      opened[index] = ok ? 1 : 0;
      resolve();
    };
    const socket = connect({ host: target.hostname, port: Number(target.port) });
    const reader = new StreamReader(
      (message) => {
        // Subscribed once the first update (not an error) arrived.
        if (first) done(message.indexOf(ERRORS) < 0, 'error result');
        if (measuring) record(message, index);
      },
      (reason) => {
        done(false, reason);
        socket.destroy();
      },
    );
    socket.setTimeout(120_000, () => socket.destroy());
    socket.on('data', (bytes: Buffer) => reader.feed(bytes));
    socket.on('error', (error: NodeJS.ErrnoException) => done(false, `error ${error.code}`));
    socket.on('close', () => done(false, 'closed'));
    socket.write(REQUEST);
    sockets.push(socket);
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
    pointAgeHistogram.fill(0);
    windowStart = Date.now();
    cpuAtStart = process.cpuUsage();
    measuring = true;
  } else if (message.type === 'report') {
    measuring = false;
    const report: ClientsReport = {
      connected,
      failed,
      events: [...events].filter((_, i) => opened[i] === 1),
      histogram: [...histogram],
      pointAgeHistogram: [...pointAgeHistogram],
      setupHistogram: [...setupHistogram],
      windowMs: Date.now() - windowStart,
      cpuS: cpuSeconds(process.cpuUsage(cpuAtStart)),
      failures,
      drops,
    };
    process.send?.({ type: 'report', report });
  } else if (message.type === 'close') {
    opening = false;
    closing = true;
    for (const socket of sockets) socket.destroy();
    process.disconnect();
  }
});

// The connect window starts at the first request, not at this process's start (tsx takes
// a few hundred ms to load: a row of 1,000 streams opens in about as long).
const firstSentAt = Date.now();
const cpuBeforeConnecting = process.cpuUsage();
await connectAll();
process.send?.({
  type: 'connected',
  connected,
  failed,
  firstSentAt,
  doneAt: Date.now(),
  cpuS: cpuSeconds(process.cpuUsage(cpuBeforeConnecting)),
});
