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
import { createTestApp, type TestApp } from '../support/app.ts';
import { repoRoot } from '../support/databases.ts';
import { syntheticCorpus } from '../trainer/synthetic-corpus.ts';
import { runWithCommand } from './command-runs.ts';

const TRAIN = `node ${repoRoot}/examples/trainer-command/train.mjs`;

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp();
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

  it('marks the job FAILED with the exit code and the trainer’s last words', async () => {
    const job = await train(`echo 'CUDA out of memory' >&2; exit 4`);
    expect(job).toMatchObject({
      status: 'FAILED',
      errorMessage: 'trainer command exited with code 4: CUDA out of memory',
    });
  });
});
