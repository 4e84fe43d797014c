import { connect } from 'node:net';

/** A request whose body is far larger than the server takes, sent over a raw socket. */
export type OversizedRequest = {
  method: string;
  path: string;
  headers?: Record<string, string>;
  /** The body's bytes, as many as the server takes (see withFiller and multipartFiles). */
  body: Iterable<Uint8Array>;
  /** Bytes to send at most, if the server keeps reading. */
  totalBytes: number;
  /** Announce the length (Content-Length) instead of sending the body chunked. */
  declareLength?: boolean;
  /** Send `Expect: 100-continue` and the body only once the server says so. */
  expectContinue?: boolean;
  /** Called when the answer's head has arrived. */
  onAnswer?: () => void;
};

export type OversizedAnswer = {
  /** The final status (100 Continue skipped), null if the connection closed without one. */
  status: number | null;
  body: string;
  /** Whether the server said 100 Continue. */
  continued: boolean;
  /** Body bytes the client got into its socket before the server answered or closed. */
  sentBytes: number;
  /** The client's port, to find the server's side of the connection. */
  localPort: number;
};

const CHUNK = 16 * 1024;
const FILLER = Buffer.alloc(CHUNK, 'x');

/** `prefix` (a JSON object's start, say), then filler for ever. */
export function* withFiller(prefix: string): Generator<Uint8Array> {
  yield Buffer.from(prefix);
  for (;;) yield FILLER;
}

/**
 * A GraphQL multipart request (operations, map), then `files` files "0", "1", … of `fileBytes`
 * each (a single endless file with Infinity), and the form's end if there is one.
 */
export function* multipartFiles(
  boundary: string,
  operations: string,
  map: string,
  fileBytes: number,
  files = Number.POSITIVE_INFINITY,
): Generator<Uint8Array> {
  const field = (name: string, value: string) =>
    `--${boundary}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  yield Buffer.from(field('operations', operations) + field('map', map));
  for (let file = 0; file < files; file++) {
    yield Buffer.from(
      `--${boundary}\r\ncontent-disposition: form-data; name="${file}"; filename="${file}.bin"\r\ncontent-type: application/octet-stream\r\n\r\n`,
    );
    for (let sent = 0; sent < fileBytes; sent += CHUNK) {
      yield FILLER.subarray(0, Math.min(CHUNK, fileBytes - sent));
    }
    yield Buffer.from('\r\n');
  }
  yield Buffer.from(`--${boundary}--\r\n`);
}

/**
 * Sends `request` and keeps sending filler (chunked, or as declared) until the server answers or
 * closes the connection, as an uploading client does; resolves once the connection is closed.
 */
export function sendOversized(origin: string, request: OversizedRequest): Promise<OversizedAnswer> {
  const { hostname, port } = new URL(origin);
  const socket = connect(Number(port), hostname);
  const chunked = !request.declareLength;
  const head = [
    `${request.method} ${request.path} HTTP/1.1`,
    `host: ${hostname}:${port}`,
    chunked ? 'transfer-encoding: chunked' : `content-length: ${request.totalBytes}`,
    ...(request.expectContinue ? ['expect: 100-continue'] : []),
    ...Object.entries(request.headers ?? {}).map(([name, value]) => `${name}: ${value}`),
  ].join('\r\n');

  let received = Buffer.alloc(0);
  let answered = false;
  let continued = false;
  let sentBytes = 0;
  let localPort = 0;

  const frame = (data: Uint8Array) =>
    chunked
      ? Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')])
      : data;

  const drained = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        socket.off('drain', done).off('close', done);
        resolve();
      };
      socket.on('drain', done).on('close', done);
    });
  const sendBody = async () => {
    for (const data of request.body) {
      if (sentBytes >= request.totalBytes || answered || socket.destroyed) return;
      const part = data.subarray(0, request.totalBytes - sentBytes);
      // An empty chunk would end a chunked body.
      if (part.length === 0) continue;
      sentBytes += part.length;
      if (!socket.write(frame(part))) await drained();
      // Let an answer in between writes, as a client that watches for one does.
      else await new Promise(setImmediate);
    }
  };
  const finish = () => {
    if (!answered && !socket.destroyed && chunked) socket.write('0\r\n\r\n');
  };

  return new Promise((resolve) => {
    socket.on('error', () => {});
    socket.on('connect', () => {
      localPort = socket.localPort ?? 0;
      socket.write(`${head}\r\n\r\n`);
      if (!request.expectContinue) void sendBody().then(finish);
    });
    socket.on('data', (data) => {
      received = Buffer.concat([received, data]);
      if (!continued && received.toString('latin1').startsWith('HTTP/1.1 100')) {
        const end = received.indexOf('\r\n\r\n');
        if (end === -1) return;
        continued = true;
        received = received.subarray(end + 4);
        void sendBody().then(finish);
      }
      if (!answered && received.includes('\r\n\r\n')) {
        answered = true;
        request.onAnswer?.();
      }
      // An answer that lets the connection live (e.g. a 201 to a body it ignored) ends our side.
      if (answer(received).complete) socket.end();
    });
    socket.on('close', () => {
      const { status, body } = answer(received);
      resolve({ status, body, continued, sentBytes, localPort });
    });
  });
}

/** The status and body of a response read so far, and whether all of it is there. */
function answer(received: Buffer): { status: number | null; body: string; complete: boolean } {
  const end = received.indexOf('\r\n\r\n');
  if (end === -1) return { status: null, body: '', complete: false };
  const head = received.subarray(0, end).toString('latin1');
  const status = Number(head.match(/^HTTP\/1\.[01] (\d{3})/)?.[1] ?? Number.NaN);
  const rest = received.subarray(end + 4);
  const length = head.match(/\r\ncontent-length: *(\d+)/i)?.[1];
  if (length !== undefined) {
    const complete = rest.length >= Number(length);
    return { status, body: rest.subarray(0, Number(length)).toString('utf8'), complete };
  }
  if (/\r\ntransfer-encoding: *chunked/i.test(head)) return { status, ...unchunk(rest) };
  return { status, body: rest.toString('utf8'), complete: false };
}

function unchunk(data: Buffer): { body: string; complete: boolean } {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const line = data.indexOf('\r\n', at);
    if (line === -1) return { body: Buffer.concat(parts).toString('utf8'), complete: false };
    const size = Number.parseInt(data.subarray(at, line).toString('latin1'), 16);
    if (size === 0) return { body: Buffer.concat(parts).toString('utf8'), complete: true };
    parts.push(data.subarray(line + 2, line + 2 + size));
    at = line + 2 + size + 2;
  }
}
