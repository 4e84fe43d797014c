import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importStream } from '../../src/dataset/import.ts';
import {
  metricPoints,
  modelArtifacts,
  modelVersions,
  type TrainingJobRow,
} from '../../src/db/schema.ts';
import { createJob } from '../../src/training/jobs.ts';
import { builtinTrainer } from '../../src/training/trainers/port.ts';
import { bytes, jsonl, record } from '../dataset/helpers.ts';
import { createTestApp, ok, type TestApp, testSettings } from '../support/app.ts';
import { repoRoot } from '../support/databases.ts';
import { syntheticCorpus } from '../trainer/synthetic-corpus.ts';
import { runWithCommand, trainVersionThroughApi } from './command-runs.ts';

const TRAIN = `node ${repoRoot}/examples/trainer-command/train.mjs`;

let app: TestApp;
beforeAll(async () => {
  // The example is the server's trainer: its describe answer and predict mode serve the API.
  app = await createTestApp({
    settings: testSettings({ TRAINER: 'command', TRAINER_COMMAND: TRAIN }),
  });
  const documents = syntheticCorpus({ size: 120, seed: 5 }).map(({ text, label }) =>
    record({ text, docType: label, bundesland: 'NW' }),
  );
  const result = await importStream(app.database.db, bytes(jsonl(documents), 4096));
  expect(result.added).toBe(120);
});
afterAll(async () => {
  await app?.close();
});

/** Runs one job with TRAINER=command and this command; resolves with the job as it ended. */
async function train(trainerCommand: string): Promise<TrainingJobRow> {
  const { db } = app.database;
  const job = await createJob(db, builtinTrainer, {
    name: 'command',
    bundeslaender: ['NW'],
    batchSize: 4,
    learningRate: 0.1,
    epochs: 3,
  });
  return runWithCommand(app, job.id, trainerCommand);
}

describe('TRAINER=command through the runner', () => {
  it('trains a job to COMPLETED with the trainer’s model as its version', async () => {
    const job = await train(TRAIN);
    expect(job).toMatchObject({ status: 'COMPLETED', progress: 100, errorMessage: null });
    const { db } = app.database;
    const points = await db.select().from(metricPoints).where(eq(metricPoints.jobId, job.id));
    expect(points).toHaveLength(job.totalSteps);
    const [version] = await db.select().from(modelVersions).where(eq(modelVersions.jobId, job.id));
    const [artifact] = await db
      .select()
      .from(modelArtifacts)
      .where(eq(modelArtifacts.modelVersionId, version!.id));
    const model = JSON.parse(Buffer.from(artifact!.data).toString('utf8'));
    expect(model).toMatchObject({
      format: 'example-trainer-model/1',
      labels: ['erlass', 'handreichung', 'schulordnung', 'verordnung'],
    });
    expect(version!.metrics.accuracy).toBe(job.accuracy);
  });

  it('trains with its declared defaults, serves classify through its predict mode and judges the next version against it', async () => {
    type Version = {
      id: string;
      isActive: boolean;
      evaluation: { decision: string; championF1: number | null; reason: string } | null;
      metrics: { macroF1: number | null; perClass: { label: string }[] };
      job: { config: { learningRate: number; warmupSteps: number; defaultsApplied: string[] } };
    };
    const trainVersion = () =>
      trainVersionThroughApi<Version>(
        app,
        TRAIN,
        // A model type of its own: the version of the test above is ZEUGNIS's champion.
        {
          name: 'node example',
          modelType: 'KLAUSUR',
          bundeslaender: ['NW'],
          batchSize: 4,
          epochs: 3,
        },
        `id isActive evaluation { decision championF1 reason }
         metrics { macroF1 perClass { label } }
         job { config { learningRate warmupSteps defaultsApplied } }`,
      );
    const first = await trainVersion();
    expect(first.job.config).toEqual({
      learningRate: 0.1,
      warmupSteps: 0,
      defaultsApplied: ['learningRate', 'warmupSteps'],
    });
    // Scored by its model process on the validation examples, as the first version it is active.
    expect(first.evaluation).toMatchObject({ decision: 'ACTIVATED', championF1: null });
    expect(first.metrics.macroF1).toBeTypeOf('number');
    expect(first.isActive).toBe(true);

    const { classify } = ok(
      await app.gql<{
        classify: {
          label: string;
          probabilities: { label: string; probability: number }[];
          modelVersion: { id: string };
        };
      }>(
        `query($text: String!) { classify(text: $text, modelType: KLAUSUR) {
          label probabilities { label probability } modelVersion { id }
        } }`,
        { text: syntheticCorpus({ size: 4, seed: 77 })[0]?.text },
      ),
    );
    expect(classify.modelVersion.id).toBe(first.id);
    expect(classify.probabilities.map((p) => p.label).sort()).toEqual(
      first.metrics.perClass.map((p) => p.label).sort(),
    );
    expect(classify.label).toBe(classify.probabilities[0]?.label);
    const sum = classify.probabilities.reduce((total, p) => total + p.probability, 0);
    expect(sum).toBeCloseTo(1, 3);

    // The champion is run by its own model process on the challenger's split.
    const second = await trainVersion();
    expect(second.evaluation?.championF1).toBeTypeOf('number');
    expect(second.evaluation?.reason).not.toMatch(/cannot be scored/);
  }, 120_000);

  it('marks the job FAILED with the exit code and the trainer’s last words', async () => {
    const job = await train(`echo 'CUDA out of memory' >&2; exit 4`);
    expect(job).toMatchObject({
      status: 'FAILED',
      errorMessage: 'trainer command exited with code 4: CUDA out of memory',
    });
  });
});
