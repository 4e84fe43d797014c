import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { pgErrorCode, UNIQUE_VIOLATION } from '../src/db/pg-error-codes.ts';
import { modelVersions } from '../src/db/schema.ts';
import { encodeGlobalID } from '../src/schema/global-ids.ts';
import { codes, createTestApp, ok, type TestApp } from './support/app.ts';
import { addVersion, newJob } from './support/fixtures.ts';

let app: TestApp;
beforeEach(async () => {
  app = await createTestApp({ trainingData: true });
});
afterEach(() => app.close());

const gid = (id: string) => encodeGlobalID('ModelVersion', id);

async function threeVersions() {
  const db = app.database.db;
  const jobs = [await newJob(db, 'a'), await newJob(db, 'b'), await newJob(db, 'c')];
  return [
    await addVersion(db, jobs[0]!, 1, true),
    await addVersion(db, jobs[1]!, 2),
    await addVersion(db, jobs[2]!, 3),
  ];
}

type Version = { id: string; version: string; isActive: boolean };

describe('model versions', () => {
  test('list newest first with their fields, filter by active', async () => {
    const [v1] = await threeVersions();
    const { modelVersions: all } = ok(
      await app.gql<{ modelVersions: { edges: { node: Version & Record<string, unknown> }[] } }>(
        `{ modelVersions { edges { node { id version modelType isActive sizeMb bundeslaender createdAt metrics { f1Score lossHistory } job { name } } } } }`,
      ),
    );
    expect(all.edges.map((e) => e.node.version)).toEqual(['v3.0', 'v2.0', 'v1.0']);
    expect(all.edges[2]?.node).toMatchObject({
      isActive: true,
      sizeMb: 3,
      bundeslaender: ['NW', 'BY'],
      metrics: { f1Score: 0.75, lossHistory: [1, 0.5] },
      job: { name: 'a' },
    });
    const active = ok(
      await app.gql<{ modelVersions: { edges: { node: Version }[] } }>(
        `{ modelVersions(activeOnly: true, modelType: ZEUGNIS) { edges { node { id } } } }`,
      ),
    );
    expect(active.modelVersions.edges.map((e) => e.node.id)).toEqual([gid(v1!.id)]);
  });

  test('activate moves the active flag; the job link shows on the job', async () => {
    const [v1, v2] = await threeVersions();
    const activated = ok(
      await app.gql<{ activateModelVersion: Version }>(
        `mutation($id: ID!) { activateModelVersion(id: $id) { id isActive } }`,
        { id: gid(v2!.id) },
      ),
    );
    expect(activated.activateModelVersion.isActive).toBe(true);
    const rows = await app.database.db.select().from(modelVersions);
    expect(rows.filter((r) => r.isActive).map((r) => r.id)).toEqual([v2!.id]);
    const again = ok(
      await app.gql<{ modelVersion: { isActive: boolean; job: { modelVersion: { id: string } } } }>(
        `query($id: ID!) { modelVersion(id: $id) { isActive job { modelVersion { id } } } }`,
        { id: gid(v1!.id) },
      ),
    );
    expect(again.modelVersion).toEqual({
      isActive: false,
      job: { modelVersion: { id: gid(v1!.id) } },
    });
  });

  test('the active version cannot be deleted; others can, and the job survives', async () => {
    const [v1, v2] = await threeVersions();
    const refused = await app.gql(`mutation($id: ID!) { deleteModelVersion(id: $id) }`, {
      id: gid(v1!.id),
    });
    expect(codes(refused)).toEqual(['CONFLICT']);
    expect(refused.errors?.[0]?.message).toContain('v1.0');
    ok(await app.gql(`mutation($id: ID!) { deleteModelVersion(id: $id) }`, { id: gid(v2!.id) }));
    const missing = await app.gql(`mutation($id: ID!) { deleteModelVersion(id: $id) }`, {
      id: gid(v2!.id),
    });
    expect(codes(missing)).toEqual(['NOT_FOUND']);
    expect(
      codes(
        await app.gql(`mutation($id: ID!) { activateModelVersion(id: $id) { id } }`, {
          id: gid(v2!.id),
        }),
      ),
    ).toEqual(['NOT_FOUND']);
  });

  test('deleting the job keeps the version, with job null', async () => {
    const [, v2] = await threeVersions();
    const jobId = encodeGlobalID('TrainingJob', v2!.jobId!);
    ok(await app.gql(`mutation($id: ID!) { deleteTrainingJob(id: $id) }`, { id: jobId }));
    const read = ok(
      await app.gql<{ modelVersion: { job: null; version: string } }>(
        `query($id: ID!) { modelVersion(id: $id) { version job { id } } }`,
        { id: gid(v2!.id) },
      ),
    );
    expect(read.modelVersion).toEqual({ version: 'v2.0', job: null });
  });

  test('the database holds the invariants: one active per type, unique version per type', async () => {
    const [v1] = await threeVersions();
    const job = await newJob(app.database.db, 'd');
    const secondActive = addVersion(app.database.db, job, 4, true);
    await expect(secondActive).rejects.toSatisfy((e) => pgErrorCode(e) === UNIQUE_VIOLATION);
    const duplicate = addVersion(app.database.db, job, v1!.versionNumber);
    await expect(duplicate).rejects.toSatisfy((e) => pgErrorCode(e) === UNIQUE_VIOLATION);
  });
});
