import { type Client, createClient } from 'graphql-sse';
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
