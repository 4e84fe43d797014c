import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importStream } from '../../src/dataset/import.ts';
import { bytes, jsonl, record } from '../dataset/helpers.ts';
import { createTestApp, type TestApp, testSettings } from '../support/app.ts';
import { repoRoot } from '../support/databases.ts';
import { syntheticCorpus } from '../trainer/synthetic-corpus.ts';
import { trainVersionThroughApi } from './command-runs.ts';

// The champion/challenger evaluation of command-made versions: on the examples the trainer held
// out (validationIndices), by model processes of PREDICT_COMMAND.
const TRAINER = `node ${repoRoot}/test/training/fixed-split-trainer.mjs`;
const MODEL = `node ${repoRoot}/test/training/fake-model.mjs`;

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp({
    settings: testSettings({
      TRAINER: 'command',
      TRAINER_COMMAND: TRAINER,
      PREDICT_COMMAND: MODEL,
    }),
  });
  const documents = syntheticCorpus({ size: 60, seed: 3 }).map(({ text, label }) =>
    record({ text, docType: label, bundesland: 'NW' }),
  );
  await importStream(app.database.db, bytes(jsonl(documents), 4096));
});
afterAll(async () => {
  await app?.close();
});

type Version = {
  id: string;
  isActive: boolean;
  evaluation: { decision: string; reason: string; championVersion: { id: string } | null };
  metrics: { perClass: { label: string; support: number }[]; confusionMatrix: number[][] };
};

const trainVersion = (activation: string, trainerCommand: string) =>
  trainVersionThroughApi<Version>(
    app,
    trainerCommand,
    { name: 'evaluation', bundeslaender: ['NW'], learningRate: 0.01, warmupSteps: 0, activation },
    `id isActive evaluation { decision reason championVersion { id } }
     metrics { perClass { label support } confusionMatrix }`,
  );

describe('evaluating a command-made version', () => {
  it('scores it on the examples its trainer held out, with its model process', async () => {
    const version = await trainVersion('ALWAYS', TRAINER);
    // One held-out example per label; the fake model always answers the first label.
    expect(version.metrics.perClass.map((c) => c.support)).toEqual([1, 1, 1, 1]);
    expect(version.metrics.confusionMatrix).toEqual([
      [1, 0, 0, 0],
      [1, 0, 0, 0],
      [1, 0, 0, 0],
      [1, 0, 0, 0],
    ]);
    expect(version.isActive).toBe(true);
  });

  it('keeps the champion when the challenger’s model process fails, saying why', async () => {
    const broken = `FAKE_MODEL='{"exitOnStart":5}' ${TRAINER}`;
    const challenger = await trainVersion('IF_BETTER', broken);
    expect(challenger.isActive).toBe(false);
    expect(challenger.evaluation.decision).toBe('KEPT_CHAMPION');
    expect(challenger.evaluation.championVersion).not.toBeNull();
    expect(challenger.evaluation.reason).toMatch(
      /could not be evaluated .*exited with code 5: fake model: cannot load/,
    );
    expect(challenger.metrics.perClass).toEqual([]);
  });
});
