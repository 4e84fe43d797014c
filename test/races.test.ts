import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createApp } from '../src/app.ts';
import { openDatabase } from '../src/db/client.ts';
import { modelVersions } from '../src/db/schema.ts';
import { encodeGlobalID } from '../src/schema/global-ids.ts';
import { ADMIN_TOKEN, codes, createTestApp, type TestApp } from './support/app.ts';
import { addVersion, newJob } from './support/fixtures.ts';

// On PostgreSQL these are real races: two apps ("servers") with their own connection pools
// fire at once. PGlite serialises statements, so there the test only checks the outcome.
let app: TestApp;
let second: { gql: TestApp['gql']; close(): Promise<void> } | undefined;

beforeEach(async () => {
  app = await createTestApp({ trainingData: true });
  if (app.database.url) {
    const database = await openDatabase({ kind: 'postgres', url: app.database.url });
    const other = createApp({ database, logger: pino({ level: 'silent' }), tokens: 'disabled' });
    second = {
      gql: async (query, variables) => {
        const response = await other.yoga.fetch('http://other/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
          body: JSON.stringify({ query, variables }),
        });
        return { ...(await response.json()), status: response.status };
      },
      close: async () => {
        await other.yoga.dispose();
        await database.close();
      },
    };
  }
});
afterEach(async () => {
  await second?.close();
  second = undefined;
  await app.close();
});

const servers = () => [app.gql.bind(app), (second ?? app).gql];

describe('concurrent transitions', () => {
  test('of 10 concurrent pauses of one job exactly one wins; the others see PAUSED', async () => {
    for (let round = 0; round < 5; round++) {
      const job = await newJob(app.database.db, `round ${round}`);
      const id = encodeGlobalID('TrainingJob', job.id);
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          servers()[i % 2]!(`mutation($id: ID!) { pauseTrainingJob(id: $id) { status } }`, { id }),
        ),
      );
      expect(results.filter((r) => !r.errors)).toHaveLength(1);
      const losers = results.filter((r) => r.errors);
      expect(losers.flatMap(codes)).toEqual(Array(9).fill('INVALID_TRANSITION'));
      for (const loser of losers) expect(loser.errors?.[0]?.message).toContain('PAUSED');
    }
  });

  test('pause, cancel and delete racing on one job leave one consistent outcome', async () => {
    for (let round = 0; round < 10; round++) {
      const job = await newJob(app.database.db, `race ${round}`);
      const id = encodeGlobalID('TrainingJob', job.id);
      const [a, b] = servers();
      const [paused, cancelled] = await Promise.all([
        a!(`mutation($id: ID!) { pauseTrainingJob(id: $id) { status } }`, { id }),
        b!(`mutation($id: ID!) { cancelTrainingJob(id: $id) { status } }`, { id }),
      ]);
      // cancel is allowed from PAUSED too, so it always succeeds; pause wins only if it ran first
      expect(cancelled.errors).toBeUndefined();
      if (paused.errors) expect(codes(paused)).toEqual(['INVALID_TRANSITION']);
      const [row] = await app.database.db.query.trainingJobs.findMany({
        where: (t, { eq }) => eq(t.id, job.id),
      });
      expect(row?.status).toBe('CANCELLED');
    }
  });
});

describe('concurrent activations', () => {
  test('never leave two active versions of a type', async () => {
    const db = app.database.db;
    const versions = [];
    for (let i = 1; i <= 4; i++)
      versions.push(await addVersion(db, await newJob(db, `v${i}`), i, i === 1));
    for (let round = 0; round < 5; round++) {
      const results = await Promise.all(
        versions.map((v, i) =>
          servers()[i % 2]!(`mutation($id: ID!) { activateModelVersion(id: $id) { isActive } }`, {
            id: encodeGlobalID('ModelVersion', v.id),
          }),
        ),
      );
      for (const result of results) expect(result.errors).toBeUndefined();
      const active = (await db.select().from(modelVersions)).filter((v) => v.isActive);
      expect(active).toHaveLength(1);
    }
  });
});
