import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importStream } from '../../src/dataset/import.ts';
import { bytes, jsonl, record } from '../dataset/helpers.ts';
import { codes, createTestApp, ok, type TestApp, testSettings } from '../support/app.ts';
import { repoRoot } from '../support/databases.ts';
import { syntheticCorpus } from '../trainer/synthetic-corpus.ts';
import { trainVersionThroughApi } from './command-runs.ts';

// classify and the champion evaluation of versions made by a command trainer, through its
// predict mode: the kit's stdlib trainer always, the PyTorch example where torch is installed.
const TINY = `python3 ${repoRoot}/trainers/python/tiny_trainer.py`;
const PYTORCH = `/usr/bin/python3 ${repoRoot}/examples/trainer-pytorch/train.py`;
const hasTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch']).status === 0;
if (!hasTorch) console.warn('/usr/bin/python3 has no torch: the PyTorch classify test is skipped');

type Version = {
  id: string;
  isActive: boolean;
  evaluation: { decision: string; reason: string; championF1: number | null } | null;
  metrics: {
    macroF1: number | null;
    perClass: { label: string; support: number }[];
    confusionMatrix: number[][] | null;
  };
};
type Classification = {
  label: string;
  probabilities: { label: string; probability: number }[];
  modelVersion: { id: string };
};

const CLASSIFY = `query($text: String!) {
  classify(text: $text, modelType: ZEUGNIS) { label probabilities { label probability } modelVersion { id } }
}`;

/** An app with TRAINER=command on a database holding a learnable corpus in NW. */
async function appFor(trainerCommand: string): Promise<TestApp> {
  const app = await createTestApp({
    settings: testSettings({ TRAINER: 'command', TRAINER_COMMAND: trainerCommand }),
  });
  const documents = syntheticCorpus({ size: 120, seed: 5 }).map(({ text, label }) =>
    record({ text, docType: label, bundesland: 'NW' }),
  );
  await importStream(app.database.db, bytes(jsonl(documents), 4096));
  return app;
}

/** Trains a version with the trainer's defaults through the API. */
const trainVersion = (app: TestApp, trainerCommand: string) =>
  trainVersionThroughApi<Version>(
    app,
    trainerCommand,
    {
      name: 'command classify',
      bundeslaender: ['NW'],
      batchSize: 4,
      epochs: 4,
      gradientAccumulation: 1,
    },
    `id isActive evaluation { decision reason championF1 }
     metrics { macroF1 perClass { label support } confusionMatrix }`,
  );

function expectClassification(c: Classification, version: Version) {
  expect(c.modelVersion.id).toBe(version.id);
  const labels = version.metrics.perClass.map((p) => p.label);
  expect(c.probabilities.map((p) => p.label).sort()).toEqual([...labels].sort());
  expect(c.label).toBe(c.probabilities[0]?.label);
  const probabilities = c.probabilities.map((p) => p.probability);
  expect(probabilities).toEqual([...probabilities].sort((a, b) => b - a));
  expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
}

describe.each([
  { name: 'the kit’s stdlib trainer', command: TINY, skip: false },
  { name: 'the PyTorch example', command: PYTORCH, skip: !hasTorch },
])('a version trained by $name', ({ command, skip }) => {
  let app: TestApp;
  beforeAll(async () => {
    if (!skip) app = await appFor(command);
  });
  afterAll(async () => {
    await app?.close();
  });

  it.skipIf(skip)(
    'is evaluated, activated and answers classify through its predict process; the next is judged against it',
    async () => {
      const first = await trainVersion(app, command);
      // Scored by running the model on the validation examples: per class and a matrix.
      expect(first.evaluation?.decision).toBe('ACTIVATED');
      expect(first.isActive).toBe(true);
      expect(first.metrics.perClass).toHaveLength(4);
      const matrix = first.metrics.confusionMatrix ?? [];
      const support = first.metrics.perClass.reduce((sum, p) => sum + p.support, 0);
      expect(matrix.flat().reduce((a, b) => a + b, 0)).toBe(support);
      expect(first.metrics.macroF1).toBeGreaterThan(0.6);

      const text = syntheticCorpus({ size: 4, seed: 77 })[0]?.text as string;
      const { classify } = ok(await app.gql<{ classify: Classification }>(CLASSIFY, { text }));
      expectClassification(classify, first);

      // The champion is scored by its own model process on the challenger's split.
      const second = await trainVersion(app, command);
      expect(second.evaluation?.championF1).toBeTypeOf('number');
      expect(second.evaluation?.reason).not.toMatch(/cannot be scored/);
    },
    180_000,
  );
});

describe('a command-trained version where no command can serve it', () => {
  it('fails classify with BAD_USER_INPUT on modelType, naming PREDICT_COMMAND', async () => {
    const trained = await appFor(TINY);
    try {
      const version = await trainVersion(trained, TINY);
      expect(version.isActive).toBe(true);
      const builtinOnly = await createTestApp({ database: trained.database });
      try {
        const result = await builtinOnly.gql(CLASSIFY, { text: 'Zeugnis' });
        expect(codes(result)).toEqual(['BAD_USER_INPUT']);
        expect(result.errors?.[0]?.extensions?.field).toBe('modelType');
        expect(result.errors?.[0]?.message).toMatch(/command trainer.*PREDICT_COMMAND/);
      } finally {
        await builtinOnly.close();
      }
    } finally {
      await trained.close();
    }
  }, 120_000);
});
