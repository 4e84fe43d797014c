import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { codes, createTestApp, type TestApp } from './support/app.ts';

// Validation never reaches the database, so one app serves the whole file.
let app: TestApp;
beforeAll(async () => {
  app = await createTestApp({ trainingData: true });
});
afterAll(() => app.close());

const createWith = (input: Record<string, unknown>) =>
  app.gql(`mutation($input: TrainingConfigInput!) { createTrainingJob(input: $input) { id } }`, {
    input: { name: 'v', bundeslaender: ['NW'], ...input },
  });

const cases: Array<[string, Record<string, unknown>, RegExp]> = [
  ['input.name', { name: '' }, /1 to 200/],
  ['input.name', { name: 'x'.repeat(201) }, /1 to 200/],
  ['input.bundeslaender', { bundeslaender: [] }, /1 to 16/],
  ['input.bundeslaender.0', { bundeslaender: ['XX'] }, /BW BY BE/],
  ['input.bundeslaender', { bundeslaender: ['NW', 'NW'] }, /twice/],
  ['input.batchSize', { batchSize: 0 }, /between 1 and 128/],
  ['input.batchSize', { batchSize: 129 }, /between 1 and 128/],
  ['input.learningRate', { learningRate: 0.2 }, /between 0.000001 and 0.1/],
  ['input.learningRate', { learningRate: 0 }, /between 0.000001 and 0.1/],
  ['input.epochs', { epochs: 101 }, /between 1 and 100/],
  ['input.warmupSteps', { warmupSteps: -1 }, /between 0 and 10000/],
  ['input.weightDecay', { weightDecay: 1.5 }, /between 0 and 1/],
  ['input.gradientAccumulation', { gradientAccumulation: 33 }, /between 1 and 32/],
  ['input.seed', { seed: -5 }, /between 0 and 2147483647/],
];

describe('createTrainingJob validation', () => {
  test.each(cases)('%s refuses %j', async (field, input, message) => {
    const result = await createWith(input);
    expect(codes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors?.[0]?.extensions?.field).toBe(field);
    expect(result.errors?.[0]?.message).toMatch(message);
  });

  test('accepts the bounds themselves and all 16 states', async () => {
    const result = await createWith({
      name: 'x'.repeat(200),
      bundeslaender: [
        'BW',
        'BY',
        'BE',
        'BB',
        'HB',
        'HH',
        'HE',
        'MV',
        'NI',
        'NW',
        'RP',
        'SL',
        'SN',
        'ST',
        'SH',
        'TH',
      ],
      batchSize: 128,
      learningRate: 0.000001,
      epochs: 100,
      warmupSteps: 10000,
      weightDecay: 0,
      gradientAccumulation: 32,
    });
    expect(result.errors).toBeUndefined();
  });

  test('the database refuses what validation would (CHECK constraints)', async () => {
    const { trainingJobs } = await import('../src/db/schema.ts');
    await expect(
      app.database.db.insert(trainingJobs).values({
        name: 'direct',
        modelType: 'ZEUGNIS',
        bundeslaender: ['XX'],
        batchSize: 16,
        learningRate: 0.001,
        epochs: 1,
        warmupSteps: 0,
        weightDecay: 0,
        gradientAccumulation: 1,
        mixedPrecision: false,
        seed: 1,
      }),
    ).rejects.toThrow();
  });
});
