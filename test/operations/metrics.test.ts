import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { encodeGlobalID } from '../../src/schema/global-ids.ts';
import {
  ADMIN_TOKEN,
  createTestApp,
  type TestApp,
  testSettings,
  VIEWER_TOKEN,
} from '../support/app.ts';
import { newJob } from '../support/fixtures.ts';
import { type ServedApp, serveApp } from '../support/http.ts';
import { sampleOf } from '../support/metrics.ts';
import { FakeRunner } from '../support/runner.ts';
import { nextResult, openEventStream, PROGRESS_SUBSCRIPTION } from '../support/sse.ts';

const METRICS_TOKEN = 'scraper-token-0123456789';
const fastPath = testSettings().sseFastPath;

let app: TestApp;
let served: ServedApp;
beforeAll(async () => {
  app = await createTestApp({ settings: testSettings({ METRICS_TOKEN }), trainingData: true });
  served = await serveApp(app);
});
afterAll(async () => {
  await served.close();
  await app.close();
});

const scrape = (token: string | null = METRICS_TOKEN) =>
  fetch(`${served.origin}/metrics`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });

const sample = async (name: string, labels: Record<string, string> = {}) =>
  sampleOf(await (await scrape()).text(), name, labels);

const post = (query: string, variables: Record<string, unknown> = {}) =>
  fetch(`${served.origin}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({ query, variables }),
  });

describe('GET /metrics', () => {
  test('answers only an admin token or METRICS_TOKEN', async () => {
    expect((await scrape(null)).status).toBe(401);
    expect((await scrape('not-a-known-token-at-all')).status).toBe(401);
    const viewer = await scrape(VIEWER_TOKEN);
    expect(viewer.status).toBe(403);
    expect((await viewer.json()).errors[0].extensions.code).toBe('FORBIDDEN');
    for (const token of [METRICS_TOKEN, ADMIN_TOKEN]) {
      const response = await scrape(token);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(await response.text()).toContain('# TYPE training_jobs gauge');
    }
  });

  test('counts operations by name and errors by code', async () => {
    const before = (await sample('graphql_envelop_request', { operationName: 'Overview' })) ?? 0;
    // executions are counted: different variables, so that the response cache answers none
    for (const first of [1, 2, 3]) {
      const query =
        'query Overview($first: Int) { trainingJobs(first: $first) { edges { cursor } } }';
      expect((await post(query, { first })).status).toBe(200);
    }
    expect(await sample('graphql_envelop_request', { operationName: 'Overview' })).toBe(before + 3);
    expect(
      await sample('graphql_envelop_request_duration_count', { operationName: 'Overview' }),
    ).toBeGreaterThanOrEqual(3);

    const missing = encodeGlobalID('TrainingJob', '00000000-0000-4000-8000-000000000000');
    await post(`mutation Cancel { cancelTrainingJob(id: "${missing}") { id } }`);
    expect(
      await sample('graphql_envelop_error_result', { operationName: 'Cancel', code: 'NOT_FOUND' }),
    ).toBe(1);
    await post('query Broken { noSuchField }');
    expect(
      await sample('graphql_envelop_error_result', {
        operationName: 'Broken',
        code: 'BAD_USER_INPUT',
      }),
    ).toBe(1);
  });

  test('jobs by status and the queue depth are read at scrape time', async () => {
    const queued = (await sample('training_jobs', { status: 'QUEUED' })) ?? 0;
    await newJob(app.database.db, 'a');
    await newJob(app.database.db, 'b');
    expect(await sample('training_jobs', { status: 'QUEUED' })).toBe(queued + 2);
    expect(await sample('training_queue_depth')).toBe(queued + 2);
  });

  test('open streams by kind while a stream is open, and the fast path counts its updates', async () => {
    const runner = new FakeRunner(app.database.db, app.events);
    const job = await runner.start((await newJob(app.database.db)).id);
    const events = Number((await sample('sse_fast_path_events_total')) ?? 0);
    const stream = await openEventStream(`${served.origin}/graphql`, {
      query: PROGRESS_SUBSCRIPTION,
      variables: { jobId: encodeGlobalID('TrainingJob', job.id) },
    });
    await nextResult(stream.blocks);
    await vi.waitFor(() => expect(app.fanout.size).toBe(fastPath ? 1 : 0));
    expect(await sample('streams_open', { kind: 'fast-path' })).toBe(fastPath ? 1 : 0);
    expect(await sample('streams_open', { kind: 'yoga-sse' })).toBe(fastPath ? 0 : 1);
    expect(await sample('streams_open', { kind: 'graphql-sse' })).toBe(0);

    await runner.step(job.id, 2);
    await nextResult(stream.blocks);
    expect(await sample('sse_fast_path_events_total')).toBe(events + (fastPath ? 1 : 0));
    expect(await sample('sse_fast_path_subscriptions_total')).toBeGreaterThanOrEqual(
      fastPath ? 1 : 0,
    );

    stream.close();
    await vi.waitFor(() => expect(served.streams.openStreams()).toBe(0));
    expect(await sample('streams_open', { kind: 'fast-path' })).toBe(0);
    expect(await sample('streams_open', { kind: 'yoga-sse' })).toBe(0);
  });

  test('rows read by imports are counted', async () => {
    const before = (await sample('dataset_import_rows_total')) ?? 0;
    const lines = ['{"text": "one"}', 'not json', '{"text": "three"}'].join('\n');
    async function* source() {
      yield new TextEncoder().encode(lines);
    }
    await app.dataset.importStream(source());
    expect(await sample('dataset_import_rows_total')).toBe(before + 3);
    expect(await sample('dataset_import_rows_per_second')).toBe(0);
  });

  test('the runner, relay, OCR and import metrics are there from the start', async () => {
    for (const name of [
      'training_runner_slots',
      'training_lease_renewals_failed_total',
      'event_relay_lag_seconds',
      'ocr_images_waiting',
      'ocr_cache_hit_ratio',
      'dataset_import_rows_total',
      'dataset_import_rows_per_second',
    ]) {
      expect(await sample(name), name).toBeDefined();
    }
  });
});

test('each app has its own registry', async () => {
  const other = await createTestApp({ database: app.database });
  try {
    expect(other.metrics.registry).not.toBe(app.metrics.registry);
    const response = await other.yoga.fetch('http://test/metrics', {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(response.status).toBe(200);
  } finally {
    await other.close();
  }
});
