import { type Client, createClient, type ExecutionResult } from 'graphql-sse';
import { ADMIN_TOKEN } from './app.ts';

export const PROGRESS_SUBSCRIPTION = `subscription Progress($jobId: ID!, $afterStep: Int) {
  trainingProgress(jobId: $jobId, afterStep: $afterStep) {
    job { id status progress currentStep loss startedAt }
    elapsedTimeMs
    estimatedRemainingMs
    newPoints { step loss timestamp }
  }
}`;

export type ProgressEvent = {
  trainingProgress: {
    job: { id: string; status: string; progress: number; currentStep: number; loss: number | null };
    elapsedTimeMs: number;
    estimatedRemainingMs: number | null;
    newPoints: { step: number; loss: number | null; timestamp: string }[];
  };
};

export type ProgressUpdate = ProgressEvent['trainingProgress'];
export type ProgressResult = ExecutionResult<ProgressEvent, unknown>;

/** The next update of a trainingProgress stream; throws if the stream ended or gave errors. */
export async function nextUpdate(events: AsyncIterator<ProgressResult>): Promise<ProgressUpdate> {
  const { value, done } = await events.next();
  if (done) throw new Error('the stream ended');
  if (!value.data) throw new Error(`GraphQL errors: ${JSON.stringify(value.errors)}`);
  return value.data.trainingProgress;
}

/** Request headers of an admin's event stream (a POSTed GraphQL operation). */
export const EVENT_STREAM_HEADERS = {
  accept: 'text/event-stream',
  'content-type': 'application/json',
  authorization: `Bearer ${ADMIN_TOKEN}`,
};

/** A graphql-sse client for tests: no retries, the admin token unless told otherwise. */
export function sseClient(
  options: {
    url?: string;
    /** `app.yoga.fetch` for in-process tests; real HTTP when absent. */
    fetchFn?: unknown;
    singleConnection?: boolean;
    token?: string | null;
  } = {},
): Client {
  const { url = 'http://test/graphql/stream', fetchFn, singleConnection = false } = options;
  const token = options.token === undefined ? ADMIN_TOKEN : options.token;
  return createClient({
    url,
    fetchFn,
    singleConnection,
    retryAttempts: 0,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
}

/** The blocks of a raw event stream ("event: next\ndata: …", ": ping" comments, …) as they arrive. */
export async function* sseBlocks(response: Response): AsyncGenerator<string> {
  if (!response.body) throw new Error('no body');
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      yield buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\n\n');
    }
  }
}

/** Opens a raw event stream over HTTP (an admin's POSTed operation); `close` aborts it. */
export async function openEventStream(
  url: string,
  body: { query: string; variables?: Record<string, unknown> },
  headers: Record<string, string> = {},
) {
  const controller = new AbortController();
  const response = await fetch(url, {
    method: 'POST',
    signal: controller.signal,
    headers: { ...EVENT_STREAM_HEADERS, ...headers },
    body: JSON.stringify(body),
  });
  return { response, blocks: sseBlocks(response), close: () => controller.abort() };
}

/** The next `event: next` result of a raw stream (pings skipped); null once it completed. */
export async function nextResult(blocks: AsyncGenerator<string>) {
  for (;;) {
    const { value, done } = await blocks.next();
    if (done || value.startsWith('event: complete')) return null;
    if (value.startsWith('event: next'))
      return JSON.parse(value.slice(value.indexOf('data: ') + 6));
  }
}
