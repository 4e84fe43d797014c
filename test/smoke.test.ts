import { afterEach, beforeEach, expect, test } from 'vitest';
import { createTestApp, ok, type TestApp } from './support/app.ts';

let app: TestApp;
beforeEach(async () => {
  app = await createTestApp();
});
afterEach(() => app.close());

test('creates a job and reads it back', async () => {
  const created = ok(
    await app.gql<{ createTrainingJob: { id: string; status: string } }>(
      `mutation { createTrainingJob(input: { name: "first", bundeslaender: ["NW"] }) { id status } }`,
    ),
  );
  expect(created.createTrainingJob.status).toBe('QUEUED');
});
