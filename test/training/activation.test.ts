import { decodeGlobalID } from '@pothos/plugin-relay';
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { loadDemoCorpus } from '../../src/dataset/demo.ts';
import { activateModelVersion } from '../../src/training/activations.ts';
import {
  builtinModelPredictor,
  type ModelPredictor,
} from '../../src/training/predict/model-predictor.ts';
import { BUNDESLAND_CODES } from '../../src/vocabulary/bundeslaender.ts';
import { codes, createTestApp, ok, type TestApp } from '../support/app.ts';
import {
  createJob,
  gatedTrainer,
  pointsOf,
  startTestRunner,
  untilStatus,
} from './runner-support.ts';

/**
 * Champion/challenger activation, its history and rollback, and the defaults that learn, on
 * the bundled demo corpus through the real runner and built-in trainer.
 */
let app: TestApp;
const stops: (() => Promise<void>)[] = [];
const db = () => app.database.db;

beforeEach(async () => {
  app = await createTestApp();
  await loadDemoCorpus(db());
});
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
  await app.close();
});

function runner(options: Parameters<typeof startTestRunner>[1] = {}) {
  const r = startTestRunner({ db: db(), events: app.events }, options);
  stops.push(() => r.stop());
  return r;
}

const ALL = { bundeslaender: BUNDESLAND_CODES };
/** Clearly weaker than the defaults: one epoch at the smallest learning rate allowed. */
const WEAK = { ...ALL, epochs: 1, learningRate: 0.000001 };

type Evaluation = {
  decision: string;
  reason: string;
  challengerF1: number;
  championF1: number | null;
  baselineF1: number;
  championVersion: { id: string } | null;
};
type Version = { id: string; version: string; isActive: boolean; evaluation: Evaluation | null };
type JobView = {
  valLoss: number;
  config: { defaultsApplied: string[]; activation: string };
  metrics: {
    macroF1: number;
    baselineF1: number;
    baselineAccuracy: number;
    perClass: {
      label: string;
      precision: number;
      recall: number;
      f1Score: number;
      support: number;
    }[];
    confusionMatrix: number[][];
  };
  modelVersion: Version;
};

const VERSION = `id version isActive evaluation {
  decision reason challengerF1 championF1 baselineF1 championVersion { id } }`;

const view = async (id: string) =>
  ok(
    await app.gql<{ trainingJob: JobView }>(
      `query($id: ID!) { trainingJob(id: $id) { valLoss config { defaultsApplied activation }
        metrics { macroF1 baselineF1 baselineAccuracy confusionMatrix
          perClass { label precision recall f1Score support } }
        modelVersion { ${VERSION} } } }`,
      { id },
    ),
  ).trainingJob;

/** Creates a ZEUGNIS job, waits until it completed, and returns its view. */
async function train(name: string, input: Record<string, unknown>) {
  const job = await createJob(app, { name, ...input });
  await untilStatus(db(), job.rowId, 'COMPLETED');
  return { ...(await view(job.id)), rowId: job.rowId, id: job.id };
}

type Activation = {
  modelType: string;
  version: { id: string } | null;
  previous: { id: string } | null;
  by: string;
  reason: string;
  at: string;
};
const activations = async (modelType = 'ZEUGNIS') =>
  ok(
    await app.gql<{ modelActivations: { edges: { node: Activation }[] } }>(
      `query($t: ModelType) { modelActivations(modelType: $t) { edges { node {
        modelType version { id } previous { id } by reason at } } } }`,
      { t: modelType },
    ),
  ).modelActivations.edges.map((e) => e.node);

const activeVersions = async () =>
  ok(
    await app.gql<{ modelVersions: { edges: { node: { id: string } }[] } }>(
      '{ modelVersions(modelType: ZEUGNIS, activeOnly: true) { edges { node { id } } } }',
    ),
  ).modelVersions.edges.map((e) => e.node.id);

const ROLLBACK =
  'mutation($t: ModelType!) { rollbackModel(modelType: $t) { id version isActive } }';

describe('defaults that learn', { timeout: 120_000 }, () => {
  test('a job with only a name and all 16 states learns: calibrated, far above the baseline, its validation loss falling', async () => {
    runner();
    const job = await train('defaults', ALL);
    expect(job.config.defaultsApplied).toEqual(['learningRate', 'warmupSteps']);
    expect(job.valLoss).toBeLessThanOrEqual(0.5);
    expect(job.metrics.macroF1).toBeGreaterThanOrEqual(job.metrics.baselineF1 + 0.3);
    const evals = (await pointsOf(db(), job.rowId)).flatMap((p) =>
      p.valLoss === null ? [] : [p.valLoss],
    );
    const [first, last] = [evals[0] as number, evals.at(-1) as number];
    expect(last).toBeLessThan(0.8 * first);

    // The honest evaluation: per class, the confusion matrix, the baseline on the same split.
    const { perClass, confusionMatrix } = job.metrics;
    expect(perClass.map((c) => c.label)).toEqual([
      'erlass',
      'handreichung',
      'schulordnung',
      'verordnung',
    ]);
    expect(confusionMatrix.map((row) => row.reduce((a, b) => a + b, 0))).toEqual(
      perClass.map((c) => c.support),
    );
    const meanF1 = perClass.reduce((sum, c) => sum + c.f1Score, 0) / perClass.length;
    expect(job.metrics.macroF1).toBeCloseTo(meanF1, 12);
    const support = perClass.reduce((sum, c) => sum + c.support, 0);
    const largest = Math.max(...perClass.map((c) => c.support));
    expect(job.metrics.baselineAccuracy).toBeLessThanOrEqual(largest / support);
    // first of its type, beating the baseline: active
    expect(job.modelVersion.isActive).toBe(true);
    expect(job.modelVersion.evaluation).toMatchObject({
      decision: 'ACTIVATED',
      challengerF1: job.metrics.macroF1,
      championF1: null,
      championVersion: null,
      baselineF1: job.metrics.baselineF1,
    });
  });
});

describe('champion/challenger', { timeout: 120_000 }, () => {
  test('IF_BETTER keeps a stronger champion and activates a stronger challenger; each activation recorded', async () => {
    runner();
    const weak = await train('weak', { ...WEAK, activation: 'ALWAYS' });
    expect(weak.modelVersion.evaluation?.decision).toBe('ACTIVATED');

    const strong = await train('strong', ALL);
    expect(strong.modelVersion.isActive).toBe(true);
    const won = strong.modelVersion.evaluation as Evaluation;
    expect(won).toMatchObject({
      decision: 'ACTIVATED',
      championVersion: { id: weak.modelVersion.id },
    });
    expect(won.championF1).toBeLessThan(won.challengerF1);

    const weakAgain = await train('weak again', WEAK);
    expect(weakAgain.modelVersion.isActive).toBe(false);
    const lost = weakAgain.modelVersion.evaluation as Evaluation;
    expect(['KEPT_CHAMPION', 'BELOW_BASELINE']).toContain(lost.decision);
    expect(lost.championVersion).toEqual({ id: strong.modelVersion.id });
    expect(lost.championF1).toBeGreaterThan(lost.challengerF1);
    expect(await activeVersions()).toEqual([strong.modelVersion.id]);

    expect(await activations()).toMatchObject([
      {
        version: { id: strong.modelVersion.id },
        previous: { id: weak.modelVersion.id },
        by: 'system',
        reason: 'AUTO_IF_BETTER',
      },
      {
        version: { id: weak.modelVersion.id },
        previous: null,
        by: 'system',
        reason: 'AUTO_ALWAYS',
      },
    ]);
  });

  test('MANUAL never activates, not even the first version of a type', async () => {
    runner();
    const job = await train('manual', { ...ALL, activation: 'MANUAL' });
    expect(job.modelVersion.isActive).toBe(false);
    expect(job.modelVersion.evaluation?.decision).toBe('MANUAL');
    expect(await activeVersions()).toEqual([]);
    expect(await activations()).toEqual([]);
  });

  test('two jobs of one type completing at once never leave two active versions', async () => {
    const gate = gatedTrainer();
    runner({ trainer: gate.trainer, concurrency: 2 });
    const input = { bundeslaender: ['NW', 'BY', 'BE'], epochs: 1, activation: 'ALWAYS' };
    const jobs = [
      await createJob(app, { name: 'a', ...input }),
      await createJob(app, { name: 'b', ...input }),
    ];
    for (const job of jobs) gate.hold(job.rowId, 1);
    for (const job of jobs) await gate.atGate(job.rowId, 1);
    for (const job of jobs) gate.release(job.rowId);
    for (const job of jobs) await untilStatus(db(), job.rowId, 'COMPLETED');
    expect(await activeVersions()).toHaveLength(1);
    const history = await activations();
    expect(history).toHaveLength(2);
    // the later activation replaced the earlier one, and is the active version
    expect(history[0]?.previous).toEqual(history[1]?.version);
    expect(await activeVersions()).toEqual([history[0]?.version?.id]);
  });
});

/** Advisory locks (the model types' among them) granted in this database right now. */
async function advisoryLocksHeld(): Promise<number> {
  const [row] = await db()
    .select({ n: sql<number>`count(*)::int` })
    .from(sql`pg_locks`)
    .where(
      sql`locktype = 'advisory' and granted and database = (select oid from pg_database where datname = current_database())`,
    );
  return row?.n ?? 0;
}

describe('a version activated while the champion is scored', { timeout: 120_000 }, () => {
  test('the new one is scored, with the type unlocked meanwhile, and the challenger judged against it', async () => {
    const builtin = builtinModelPredictor();
    const scored: string[] = [];
    let activateOnScoring: string | null = null;
    let typeLocksWhileScored: number | null = null;
    const predictor: ModelPredictor = {
      ...builtin,
      async predict(model, texts) {
        scored.push(model.id);
        const meanwhile = activateOnScoring;
        if (meanwhile && model.id !== meanwhile && !model.id.startsWith('job:')) {
          // The first champion is being scored: another version becomes active meanwhile.
          await activateModelVersion(db(), meanwhile, 'test');
        } else if (meanwhile && model.id === meanwhile) {
          typeLocksWhileScored = await advisoryLocksHeld();
        }
        return builtin.predict(model, texts);
      },
    };
    runner({ predictor });
    const first = await train('first', { ...ALL, epochs: 1, activation: 'ALWAYS' });
    const second = await train('second', { ...ALL, epochs: 1, activation: 'MANUAL' });
    const rowIdOf = (version: Version) => decodeGlobalID(version.id).id;
    activateOnScoring = rowIdOf(second.modelVersion);
    scored.length = 0;
    const third = await train('third', { ...ALL, epochs: 1 });
    // the challenger, the champion it started with, the version activated meanwhile
    expect(scored).toEqual([
      `job:${third.rowId}`,
      rowIdOf(first.modelVersion),
      rowIdOf(second.modelVersion),
    ]);
    expect(third.modelVersion.evaluation?.championVersion).toEqual({ id: second.modelVersion.id });
    // Nothing held the type's lock while the model answered (on PGlite that stops every query).
    expect(typeLocksWhileScored).toBe(0);
  });
});

describe('rollback', { timeout: 120_000 }, () => {
  test('re-activates the previous version, recorded as ROLLBACK by the caller; NOT_FOUND without an earlier activation; CONFLICT once it was deleted', async () => {
    runner();
    expect(codes(await app.gql(ROLLBACK, { t: 'ZEUGNIS' }))).toEqual(['NOT_FOUND']);
    const first = await train('first', { ...ALL, epochs: 1, activation: 'ALWAYS' });
    // one activation, with nothing before it
    expect(codes(await app.gql(ROLLBACK, { t: 'ZEUGNIS' }))).toEqual(['NOT_FOUND']);
    const second = await train('second', { ...ALL, epochs: 1, activation: 'ALWAYS' });
    expect(await activations()).toHaveLength(2); // warm the response cache

    const rolled = ok(await app.gql<{ rollbackModel: Version }>(ROLLBACK, { t: 'ZEUGNIS' }));
    expect(rolled.rollbackModel).toMatchObject({ id: first.modelVersion.id, isActive: true });
    expect(await activeVersions()).toEqual([first.modelVersion.id]);
    const [latest] = await activations();
    expect(latest).toMatchObject({
      modelType: 'ZEUGNIS',
      version: { id: first.modelVersion.id },
      previous: { id: second.modelVersion.id },
      by: 'admin',
      reason: 'ROLLBACK',
    });

    // Manual activation is recorded too; then the version before it is deleted.
    ok(
      await app.gql('mutation($id: ID!) { activateModelVersion(id: $id) { id } }', {
        id: second.modelVersion.id,
      }),
    );
    expect((await activations())[0]).toMatchObject({ by: 'admin', reason: 'MANUAL' });
    ok(
      await app.gql('mutation($id: ID!) { deleteModelVersion(id: $id) }', {
        id: first.modelVersion.id,
      }),
    );
    expect(codes(await app.gql(ROLLBACK, { t: 'ZEUGNIS' }))).toEqual(['CONFLICT']);
    expect(await activeVersions()).toEqual([second.modelVersion.id]);
    // the history keeps the deleted version's entries, resolved as null
    expect((await activations())[0]?.previous).toBeNull();
  });
});
