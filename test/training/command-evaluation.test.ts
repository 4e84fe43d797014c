import { decodeGlobalID } from '@pothos/plugin-relay';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importStream } from '../../src/dataset/import.ts';
import type { TrainingJobRow } from '../../src/db/schema.ts';
import { jobTopic } from '../../src/events/topics.ts';
import { startRunner } from '../../src/training/runner/index.ts';
import { bytes, jsonl, record } from '../dataset/helpers.ts';
import { createTestApp, ok, type TestApp, testSettings } from '../support/app.ts';
import { repoRoot } from '../support/databases.ts';
import { syntheticCorpus } from '../trainer/synthetic-corpus.ts';

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

async function trainVersion(activation: string, trainerCommand: string): Promise<Version> {
  const { createTrainingJob: created } = ok(
    await app.gql<{ createTrainingJob: { id: string } }>(
      `mutation($activation: ActivationPolicy!) { createTrainingJob(input: {
        name: "evaluation", bundeslaender: ["NW"], learningRate: 0.01, warmupSteps: 0, activation: $activation
      }) { id } }`,
      { activation },
    ),
  );
  const ended = new Promise<TrainingJobRow>((resolve) => {
    const unsubscribe = app.events.subscribe(jobTopic(decodeGlobalID(created.id).id), ({ job }) => {
      if (job.status !== 'COMPLETED' && job.status !== 'FAILED') return;
      unsubscribe();
      resolve(job);
    });
  });
  const runner = startRunner(
    {
      enabled: true,
      concurrency: 1,
      trainer: 'command',
      trainerCommand,
      leaseMs: 15_000,
      flushIntervalMs: 50,
      checkpointIntervalMs: 60_000,
      pollIntervalMs: 50,
    },
    {
      db: app.database.db,
      events: app.events,
      logger: pino({ level: 'silent' }),
      predictor: app.predictor,
    },
  );
  try {
    expect((await ended).errorMessage).toBeNull();
  } finally {
    await runner?.stop();
  }
  const { trainingJob } = ok(
    await app.gql<{ trainingJob: { modelVersion: Version } }>(
      `query($id: ID!) { trainingJob(id: $id) { modelVersion {
        id isActive evaluation { decision reason championVersion { id } }
        metrics { perClass { label support } confusionMatrix }
      } } }`,
      { id: created.id },
    ),
  );
  return trainingJob.modelVersion;
}

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
