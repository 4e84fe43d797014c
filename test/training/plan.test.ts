import { count } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { loadDemoCorpus } from '../../src/dataset/demo.ts';
import { importStream } from '../../src/dataset/import.ts';
import { trainingJobs } from '../../src/db/schema.ts';
import { BUILTIN_RECOMMENDATION } from '../../src/training/trainers/port.ts';
import { BUNDESLAND_CODES } from '../../src/vocabulary/bundeslaender.ts';
import type { TrainingPlan } from '../../src/vocabulary/evaluation.ts';
import { bytes, jsonl, record } from '../dataset/helpers.ts';
import { codes, createTestApp, ok, type TestApp, VIEWER_TOKEN } from '../support/app.ts';

let app: TestApp;
beforeEach(async () => {
  app = await createTestApp();
});
afterEach(async () => {
  await app.close();
});

// The API answers the plan in the domain's shape.
type Plan = TrainingPlan;

const PLAN = `query($input: TrainingConfigInput!) { trainingPlan(input: $input) {
  documents examples trainExamples validationExamples labels { label count }
  stepsPerEpoch totalSteps warmupSteps learningRate estimatedDurationMs warnings { code message }
} }`;

const plan = async (input: Record<string, unknown>, token?: string) =>
  app.gql<{ trainingPlan: Plan }>(PLAN, { input }, { token });

const planOk = async (input: Record<string, unknown>) => ok(await plan(input)).trainingPlan;

const warningCodes = (p: Plan) => p.warnings.map((w) => w.code).sort();

const jobCount = async () =>
  (await app.database.db.select({ n: count() }).from(trainingJobs))[0]?.n;

async function importRecords(records: unknown[]) {
  const result = await importStream(app.database.db, bytes(jsonl(records), 4096));
  expect(result.rejected).toBe(0);
}

describe('trainingPlan', () => {
  test('on the demo corpus with every default: the trainer’s settings, a sound plan, no warnings; a viewer may ask and nothing is created', async () => {
    await loadDemoCorpus(app.database.db);
    const p = ok(
      await plan({ name: 'all', bundeslaender: BUNDESLAND_CODES }, VIEWER_TOKEN),
    ).trainingPlan;
    expect(p.warnings).toEqual([]);
    expect(p.examples).toBe(p.trainExamples + p.validationExamples);
    expect(p.labels.reduce((sum, l) => sum + l.count, 0)).toBe(p.examples);
    expect(p.labels.map((l) => l.label).sort()).toEqual([
      'erlass',
      'handreichung',
      'schulordnung',
      'verordnung',
    ]);
    // batch 16, accumulation 4, 10 epochs
    expect(p.stepsPerEpoch).toBe(Math.ceil(Math.ceil(p.trainExamples / 16) / 4));
    expect(p.totalSteps).toBe(10 * p.stepsPerEpoch);
    expect(p.totalSteps).toBeGreaterThanOrEqual(BUILTIN_RECOMMENDATION.shortRunSteps);
    expect(p.learningRate).toBe(BUILTIN_RECOMMENDATION.learningRate);
    expect(p.warmupSteps).toBe(BUILTIN_RECOMMENDATION.warmupSteps);
    // no completed run yet to measure a step rate on
    expect(p.estimatedDurationMs).toBeNull();
    expect(await jobCount()).toBe(0);
  });

  test('given values are kept; warmupRatio resolves against the run; warmupSteps with warmupRatio is refused', async () => {
    await loadDemoCorpus(app.database.db);
    const given = await planOk({
      name: 'given',
      bundeslaender: ['NW', 'BY', 'BE'],
      learningRate: 0.02,
      warmupSteps: 3,
    });
    expect(given).toMatchObject({ learningRate: 0.02, warmupSteps: 3 });
    const ratio = await planOk({
      name: 'ratio',
      bundeslaender: BUNDESLAND_CODES,
      warmupRatio: 0.1,
    });
    expect(ratio.warmupSteps).toBe(Math.round(0.1 * ratio.totalSteps));

    const both = await plan({
      name: 'both',
      bundeslaender: ['NW'],
      warmupSteps: 5,
      warmupRatio: 0.1,
    });
    expect(codes(both)).toEqual(['BAD_USER_INPUT']);
    expect(both.errors?.[0]?.extensions?.field).toBe('input.warmupRatio');
    const tooMuch = await plan({ name: 'ratio', bundeslaender: ['NW'], warmupRatio: 0.6 });
    expect(tooMuch.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'input.warmupRatio',
    });
  });

  test('WARMUP_EXCEEDS_RUN, FEW_STEPS and TINY_VALIDATION, each alone', async () => {
    await loadDemoCorpus(app.database.db);
    const all = { name: 'all', bundeslaender: BUNDESLAND_CODES };
    const long = await planOk(all);
    expect(warningCodes(await planOk({ ...all, warmupSteps: long.totalSteps }))).toEqual([
      'WARMUP_EXCEEDS_RUN',
    ]);
    expect(warningCodes(await planOk({ ...all, epochs: 3 }))).toEqual(['FEW_STEPS']);
    // one state of the demo corpus: a few dozen examples, under 10 held out
    const one = await planOk({ name: 'one', bundeslaender: ['NW'], epochs: 100, batchSize: 1 });
    expect(one.validationExamples).toBeLessThan(10);
    expect(warningCodes(one)).toEqual(['TINY_VALIDATION']);
  });

  test('80, 80 and 1 examples: IMBALANCED_LABELS, and TINY_VALIDATION for the label without validation examples', async () => {
    await importRecords([
      ...Array.from({ length: 80 }, (_, i) =>
        record({ docType: 'schulordnung', text: `Schulordnung ${i}: Pause und Unterricht.` }),
      ),
      ...Array.from({ length: 80 }, (_, i) =>
        record({ docType: 'erlass', text: `Erlass ${i}: Runderlass an die Dienststellen.` }),
      ),
      record({ docType: 'verordnung', text: 'Eine einzige Verordnung.' }),
    ]);
    const p = await planOk({ name: 'single', bundeslaender: ['NW'], epochs: 100, batchSize: 1 });
    expect(p.validationExamples).toBeGreaterThanOrEqual(10);
    expect(warningCodes(p)).toEqual(['IMBALANCED_LABELS', 'TINY_VALIDATION']);
    const tiny = p.warnings.find((w) => w.code === 'TINY_VALIDATION');
    expect(tiny?.message).toContain('verordnung');
  });
});

describe('createTrainingJob', () => {
  test('refuses states without training-allowed documents (input.bundeslaender) and creates nothing', async () => {
    await importRecords([record({ bundesland: 'BY', trainingAllowed: false })]);
    for (const bundeslaender of [['HH'], ['BY']]) {
      const result = await app.gql(
        'mutation($input: TrainingConfigInput!) { createTrainingJob(input: $input) { id } }',
        { input: { name: 'no data', bundeslaender } },
      );
      expect(result.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'input.bundeslaender',
      });
      expect(codes(await plan({ name: 'no data', bundeslaender }))).toEqual(['BAD_USER_INPUT']);
    }
    expect(await jobCount()).toBe(0);
  });

  test('stores the plan with the job and the resolved settings in its config', async () => {
    await loadDemoCorpus(app.database.db);
    const input = { name: 'stored', bundeslaender: ['NW', 'BY'], learningRate: 0.03 };
    const expected = await planOk(input);
    const created = ok(
      await app.gql<{
        createTrainingJob: {
          plan: Plan;
          config: { learningRate: number; warmupSteps: number; defaultsApplied: string[] };
        };
      }>(
        `mutation($input: TrainingConfigInput!) { createTrainingJob(input: $input) {
          config { learningRate warmupSteps defaultsApplied }
          plan { documents examples trainExamples validationExamples labels { label count }
            stepsPerEpoch totalSteps warmupSteps learningRate estimatedDurationMs warnings { code message } }
        } }`,
        { input },
      ),
    ).createTrainingJob;
    expect(created.plan).toEqual(expected);
    expect(created.config).toEqual({
      learningRate: 0.03,
      warmupSteps: expected.warmupSteps,
      defaultsApplied: ['warmupSteps'],
    });
  });
});
