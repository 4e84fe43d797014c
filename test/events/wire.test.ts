import { describe, expect, test } from 'vitest';
import type { MetricPointRow, TrainingJobRow } from '../../src/db/schema.ts';
import { EventBus } from '../../src/events/bus.ts';
import type { AppTopics } from '../../src/events/topics.ts';
import { decodeEvent, encodeEvent, MAX_PAYLOAD_BYTES } from '../../src/events/wire.ts';

const JOB_ID = '6f1c2b9e-8d4a-4c1e-9a7b-2e5f0c3d4a1b';

const job = (patch: Partial<TrainingJobRow> = {}): TrainingJobRow => ({
  id: JOB_ID,
  seq: 7,
  name: 'Zeugnisse NRW',
  modelType: 'ZEUGNIS',
  status: 'TRAINING',
  bundeslaender: ['NW', 'BY'],
  batchSize: 16,
  learningRate: 0.00005,
  epochs: 10,
  warmupSteps: 500,
  weightDecay: 0.01,
  gradientAccumulation: 4,
  mixedPrecision: true,
  seed: 42,
  activation: 'IF_BETTER',
  defaultsApplied: [],
  plan: null,
  evaluationReport: null,
  progress: 12.5,
  currentEpoch: 2,
  currentStep: 250,
  totalSteps: 2000,
  loss: 0.4321,
  valLoss: null,
  currentLearningRate: 0.00004,
  documentsProcessed: 100,
  totalDocuments: 800,
  precision: 0,
  recall: 0,
  f1Score: 0,
  accuracy: 0,
  errorMessage: null,
  createdAt: new Date('2026-11-27T08:00:00.000Z'),
  updatedAt: new Date('2026-11-27T09:00:00.123Z'),
  startedAt: new Date('2026-11-27T08:01:00.000Z'),
  estimatedCompletion: new Date('2026-11-27T10:00:00.000Z'),
  completedAt: null,
  leaseOwner: 'runner-1',
  leaseExpiresAt: new Date('2026-11-27T09:01:00.000Z'),
  datasetCutoff: null,
  ...patch,
});

const points = (from: number, count: number): MetricPointRow[] =>
  Array.from({ length: count }, (_, i) => ({
    jobId: JOB_ID,
    step: from + i,
    epoch: 1,
    loss: 1 / (from + i) + 0.123456789,
    valLoss: (from + i) % 10 === 0 ? 0.987654321 : null,
    learningRate: 0.0000423456789,
    recordedAt: new Date(1_795_000_000_000 + i),
  }));

const bytes = (text: string) => Buffer.byteLength(text);

describe('event wire format', () => {
  test('a job event survives the trip, dates and all', () => {
    const event = { job: job(), newPoints: points(1, 3) };
    const [text, ...rest] = encodeEvent('origin-a', `job:${JOB_ID}`, event);
    expect(rest).toEqual([]);
    expect(decodeEvent(text!)).toEqual({
      origin: 'origin-a',
      topic: `job:${JOB_ID}`,
      jobId: JOB_ID,
      ...event,
    });
  });

  test('every other topic arrives as itself, with its payload', () => {
    const plain = [
      ['jobs', { jobId: JOB_ID, deleted: true }],
      ['jobProgress', { jobId: JOB_ID }],
      ['models', { versionId: JOB_ID }],
      ['documents', { added: 30 }],
      [
        'ocr:batch-1',
        { kind: 'complete', batchId: 'batch-1', totalTimeMs: 5, processedCount: 2, failedCount: 0 },
      ],
    ] as const;
    for (const [topic, payload] of plain) {
      const texts = encodeEvent('o', topic, payload);
      expect(texts.map(decodeEvent)).toEqual([{ origin: 'o', topic, payload }]);
    }
  });

  test('a large event is split into whole events under the NOTIFY limit, in order', () => {
    const event = { job: job(), newPoints: points(1, 500) };
    const texts = encodeEvent('o', `job:${JOB_ID}`, event);
    expect(texts.length).toBeGreaterThan(1);
    for (const text of texts) expect(bytes(text)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    const decoded = texts.map(decodeEvent);
    for (const part of decoded) expect(part).toMatchObject({ job: event.job });
    expect(decoded.flatMap((d) => ('newPoints' in d ? d.newPoints : []))).toEqual(event.newPoints);
  });

  test('a row too large for a notification keeps its status: its error message is cut to fit', () => {
    const message = 'Traceback … \u001b[31m'.repeat(800);
    const failed = job({ status: 'FAILED', errorMessage: message });
    const texts = encodeEvent('o', `job:${JOB_ID}`, { job: failed, newPoints: points(1, 2) });
    expect(texts).toHaveLength(1);
    expect(bytes(texts[0]!)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    const decoded = decodeEvent(texts[0]!);
    if (!('jobId' in decoded)) throw new Error('a job event');
    expect(decoded.errorMessageCut).toBe(true);
    const cut = decoded.job.errorMessage!;
    expect(cut.length).toBeGreaterThan(500);
    expect(message.startsWith(cut)).toBe(true);
    expect(decoded.job).toEqual({ ...failed, errorMessage: cut });
    expect(decoded.newPoints).toEqual(points(1, 2));
  });
});

describe('EventBus taps', () => {
  test('see what is published here, not what is delivered from elsewhere', () => {
    const bus = new EventBus<AppTopics>();
    const tapped: string[] = [];
    const heard: string[] = [];
    bus.tap((topic) => tapped.push(topic));
    bus.subscribe('jobs', (p) => heard.push(String(p.jobId)));
    bus.publish('jobs', { jobId: 'local' });
    bus.deliver('jobs', { jobId: 'remote' });
    expect(heard).toEqual(['local', 'remote']);
    expect(tapped).toEqual(['jobs']);
    expect(bus.listenerCount()).toBe(1);
  });
});
