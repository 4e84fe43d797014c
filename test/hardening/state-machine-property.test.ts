import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { executeRows } from '../../src/db/raw.ts';
import { encodeGlobalID } from '../../src/schema/global-ids.ts';
import { allowedEdges } from '../../src/training/transitions.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { addVersion, newJob } from '../support/fixtures.ts';

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp({ trainingData: true });
  // The database itself records every status change as it commits: an observer that cannot
  // miss one or see them out of order, however the requests interleave.
  const db = app.database.db;
  await db.execute(sql`create table status_log (job_id uuid, old_status text, new_status text)`);
  await db.execute(sql`
    create function log_status() returns trigger language plpgsql as $$
    begin
      if new.status is distinct from old.status then
        insert into status_log values (new.id, old.status, new.status);
      end if;
      return new;
    end $$`);
  await db.execute(
    sql`create trigger log_status after update on training_jobs for each row execute function log_status()`,
  );
});
afterAll(() => app.close());

const ACTIONS = [
  'pauseTrainingJob',
  'resumeTrainingJob',
  'cancelTrainingJob',
  'deleteTrainingJob',
] as const;

test('concurrent random job mutations only ever take allowed transitions; never two active versions', async () => {
  const db = app.database.db;
  const edges = allowedEdges();
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.array(fc.tuple(fc.constantFrom(...ACTIONS), fc.nat({ max: 3 })), {
          minLength: 1,
          maxLength: 6,
        }),
        {
          minLength: 3,
          maxLength: 4,
        },
      ),
      fc.array(fc.nat({ max: 3 }), { minLength: 2, maxLength: 6 }),
      async (clients, activations) => {
        const jobs = await Promise.all([0, 1, 2, 3].map((i) => newJob(db, `p${i}`)));
        const versions: Awaited<ReturnType<typeof addVersion>>[] = [];
        for (const [i, job] of jobs.entries())
          versions.push(
            await addVersion(db, job, await nextVersion(), i === 0 && !(await anyActive())),
          );
        const run = async (ops: Array<[(typeof ACTIONS)[number], number]>) => {
          for (const [action, target] of ops) {
            const id = encodeGlobalID('TrainingJob', jobs[target]!.id);
            const query =
              action === 'deleteTrainingJob'
                ? `mutation($id: ID!) { deleteTrainingJob(id: $id) }`
                : `mutation($id: ID!) { ${action}(id: $id) { status } }`;
            const result = await app.gql(query, { id });
            for (const error of result.errors ?? []) {
              expect(['INVALID_TRANSITION', 'NOT_FOUND', 'CONFLICT']).toContain(
                error.extensions?.code,
              );
            }
          }
        };
        const activate = (i: number) =>
          app.gql(`mutation($id: ID!) { activateModelVersion(id: $id) { id } }`, {
            id: encodeGlobalID('ModelVersion', versions[i]!.id),
          });
        await Promise.all([...clients.map(run), ...activations.map(activate)]);

        const log = await executeRows<{ old_status: string; new_status: string }>(
          db,
          sql`select old_status, new_status from status_log`,
        );
        for (const row of log) expect(edges.has(`${row.old_status}->${row.new_status}`)).toBe(true);
        const active = await executeRows<{ n: number }>(
          db,
          sql`select count(*)::int as n from model_versions where is_active group by model_type`,
        );
        for (const row of active) expect(row.n).toBe(1);
      },
    ),
    { numRuns: 15 },
  );

  async function nextVersion() {
    const [row] = await executeRows<{ n: number }>(
      db,
      sql`select coalesce(max(version_number), 0)::int + 1 as n from model_versions`,
    );
    return Number(row!.n);
  }
  async function anyActive() {
    const [row] = await executeRows<{ n: number }>(
      db,
      sql`select count(*)::int as n from model_versions where is_active`,
    );
    return Number(row!.n) > 0;
  }
});
