import { spawnSync } from 'node:child_process';
import { decodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importStream } from '../../src/dataset/import.ts';
import { bytes, jsonl, record } from '../dataset/helpers.ts';
import { createTestApp, ok, type TestApp } from '../support/app.ts';
import { repoRoot } from '../support/databases.ts';
import { syntheticCorpus } from '../trainer/synthetic-corpus.ts';
import { runWithCommand } from './command-runs.ts';

// The kit's own tests (trainers/python/test_trainer_kit.py) cover the protocol in detail; this
// one runs a kit-based trainer under the real runner and server.
const hasPython = spawnSync('python3', ['--version']).status === 0;
if (!hasPython) console.warn('python3 is missing: the Python trainer kit test is skipped');

const TRAIN = `python3 ${repoRoot}/trainers/python/tiny_trainer.py`;

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp();
  const documents = syntheticCorpus({ size: 120, seed: 5 }).map(({ text, label }) =>
    record({ text, docType: label, bundesland: 'NW' }),
  );
  await importStream(app.database.db, bytes(jsonl(documents), 4096));
});
afterAll(async () => {
  await app?.close();
});

describe.skipIf(!hasPython)('a trainer on the Python kit under TRAINER=command', () => {
  it('trains a job created through the API to COMPLETED with a model version', async () => {
    const { createTrainingJob: created } = ok(
      await app.gql<{ createTrainingJob: { id: string } }>(
        `mutation {
          createTrainingJob(input: {
            name: "python kit", bundeslaender: ["NW"], batchSize: 2, learningRate: 0.1,
            epochs: 4, warmupSteps: 5, gradientAccumulation: 1
          }) { id }
        }`,
      ),
    );
    const row = await runWithCommand(app, decodeGlobalID(created.id).id, TRAIN);
    expect(row.errorMessage).toBeNull();

    type Job = {
      status: string;
      currentStep: number;
      totalSteps: number;
      valLoss: number | null;
      metrics: { f1Score: number };
      modelVersion: { id: string } | null;
    };
    const { trainingJob: job } = ok(
      await app.gql<{ trainingJob: Job }>(
        `query ($id: ID!) {
          trainingJob(id: $id) {
            status currentStep totalSteps valLoss metrics { f1Score } modelVersion { id }
          }
        }`,
        { id: created.id },
      ),
    );
    expect(job.status).toBe('COMPLETED');
    expect(job.currentStep).toBe(job.totalSteps);
    expect(job.valLoss).toBeTypeOf('number');
    // Four labels: chance is 0.25; the synthetic corpus is easy.
    expect(job.metrics.f1Score).toBeGreaterThan(0.6);
    expect(job.modelVersion).not.toBeNull();
  });
});
