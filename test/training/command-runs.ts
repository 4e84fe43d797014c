import { decodeGlobalID } from '@pothos/plugin-relay';
import { pino } from 'pino';
import type { TrainingJobRow } from '../../src/db/schema.ts';
import { jobTopic } from '../../src/events/topics.ts';
import type { ModelPredictor } from '../../src/training/predict/model-predictor.ts';
import { startRunner } from '../../src/training/runner/index.ts';
import { ok, type TestApp } from '../support/app.ts';

/**
 * Runs the queued job `jobId` with TRAINER=command and this command (and the app's predictor,
 * when given) until it is COMPLETED or FAILED; resolves with its row then.
 */
export async function runWithCommand(
  app: TestApp,
  jobId: string,
  trainerCommand: string,
  predictor?: ModelPredictor,
): Promise<TrainingJobRow> {
  const ended = new Promise<TrainingJobRow>((resolve) => {
    const unsubscribe = app.events.subscribe(jobTopic(jobId), ({ job }) => {
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
    { db: app.database.db, events: app.events, logger: pino({ level: 'silent' }), predictor },
  );
  try {
    return await ended;
  } finally {
    await runner?.stop();
  }
}

/**
 * Creates a job through the API with `input`, runs it with this command and the app's predictor,
 * and returns its model version's `selection`.
 */
export async function trainVersionThroughApi<V>(
  app: TestApp,
  trainerCommand: string,
  input: Record<string, unknown>,
  selection: string,
): Promise<V> {
  const { createTrainingJob: created } = ok(
    await app.gql<{ createTrainingJob: { id: string } }>(
      'mutation($input: TrainingConfigInput!) { createTrainingJob(input: $input) { id } }',
      { input },
    ),
  );
  const ended = await runWithCommand(
    app,
    decodeGlobalID(created.id).id,
    trainerCommand,
    app.predictor,
  );
  if (ended.errorMessage) throw new Error(`the job failed: ${ended.errorMessage}`);
  const { trainingJob } = ok(
    await app.gql<{ trainingJob: { modelVersion: V } }>(
      `query($id: ID!) { trainingJob(id: $id) { modelVersion { ${selection} } } }`,
      { id: created.id },
    ),
  );
  return trainingJob.modelVersion;
}
