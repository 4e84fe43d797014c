import type { ExecutionResult } from 'graphql-sse';
import { pino } from 'pino';
import { expect, test } from 'vitest';
import { EventBus } from '../src/events/bus.ts';
import { startPgRelay } from '../src/events/pg-relay.ts';
import type { AppTopics } from '../src/events/topics.ts';
import { rowId as decodeId } from '../src/schema/global-ids.ts';
import { getJob } from '../src/training/jobs.ts';
import { createTestApp } from './support/app.ts';
import { createTestDatabase, onPostgres } from './support/databases.ts';
import { expectExactRules, followWithClient, PAUSED_AND_RESUMED } from './support/live-progress.ts';
import { type ChildServer, startChild, stopChild } from './support/processes.ts';
import { FakeRunner } from './support/runner.ts';
import { PROGRESS_SUBSCRIPTION, type ProgressEvent, sseClient } from './support/sse.ts';
import { seedTrainingData } from './support/training-data.ts';
import {
  checkpointOf,
  createJob,
  gatedTrainer,
  importCorpus,
  jobInput,
  jobRow,
  pointsOf,
  startTestRunner,
  waitFor,
} from './training/runner-support.ts';

const TOKEN = 'cross-process-token-0123456789';

// PGlite is one process: there is nothing to cross.
test.skipIf(!onPostgres())(
  'a client on server B follows a job that server A and a runner change',
  {
    timeout: 180_000,
  },
  async () => {
    const database = await createTestDatabase();
    await seedTrainingData(database.db);
    const env = {
      DATABASE_URL: database.url!,
      AUTH_TOKENS: `${TOKEN}:admin`,
      DEMO_DATA: 'false',
      // the test drives the job itself; a real runner would claim it first
      WORKER: 'false',
    };
    const servers: ChildServer[] = [startChild(env), startChild(env)];
    // The test process plays the runner: its own bus, relayed through the same database.
    const events = new EventBus<AppTopics>();
    const relay = await startPgRelay({
      sql: database.sql!,
      events,
      readJob: (id) => getJob(database.db, id),
      logger: pino({ level: 'silent' }),
    });
    try {
      const [urlA, urlB] = await Promise.all(servers.map((s) => s.ready));
      const onA = (query: string, variables: Record<string, unknown> = {}) =>
        fetch(urlA!, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
          body: JSON.stringify({ query, variables }),
        }).then((r) => r.json() as Promise<{ data: Record<string, { id: string }> }>);

      const jobsSeen: (string | null)[] = [];
      events.subscribe('jobs', (e) => jobsSeen.push(e.jobId));
      const created = await onA(
        'mutation { createTrainingJob(input: { name: "cross", bundeslaender: ["HH"] }) { id } }',
      );
      const jobId = created.data.createTrainingJob!.id;
      const rowId = decodeId(jobId, 'TrainingJob');

      const client = sseClient({ url: `${urlB}/stream`, token: TOKEN });
      const stream = client.iterate<ProgressEvent, unknown>({
        query: PROGRESS_SUBSCRIPTION,
        variables: { jobId },
      });
      const next = async () => {
        const { value, done } = await stream.next();
        if (done) return null;
        return (value as ExecutionResult<ProgressEvent, unknown>).data!.trainingProgress;
      };
      const until = async (status: string) => {
        const seen = [];
        for (let u = await next(); u; u = await next()) {
          seen.push(u);
          if (u.job.status === status) return seen;
        }
        throw new Error(`the stream ended before ${status}`);
      };
      expect((await next())?.job.status).toBe('QUEUED');

      const runner = new FakeRunner(database.db, events);
      await runner.start(rowId);
      await until('TRAINING');
      await runner.step(rowId, 3);
      await onA('mutation($id: ID!) { pauseTrainingJob(id: $id) { id } }', { id: jobId });
      const paused = await until('PAUSED');
      expect(paused.flatMap((u) => u.newPoints.map((p) => p.step))).toEqual([1, 2, 3]);
      await onA('mutation($id: ID!) { cancelTrainingJob(id: $id) { id } }', { id: jobId });
      await until('CANCELLED');
      expect(await stream.next()).toEqual({ done: true, value: undefined });
      // `jobs` (what caches listen to) crosses too: the runner's process heard A's changes.
      expect(jobsSeen).toContain(rowId);

      // Deleting a job on A ends its streams on B with NOT_FOUND.
      const doomed = await onA(
        'mutation { createTrainingJob(input: { name: "doomed", bundeslaender: ["HH"] }) { id } }',
      );
      const watched = client.iterate({
        query: PROGRESS_SUBSCRIPTION,
        variables: { jobId: doomed.data.createTrainingJob!.id },
      });
      await watched.next();
      await onA('mutation($id: ID!) { deleteTrainingJob(id: $id) }', {
        id: doomed.data.createTrainingJob!.id,
      });
      const { value: gone } = await watched.next();
      expect(
        gone?.errors?.map((e: { extensions?: { code?: string } }) => e.extensions?.code),
      ).toEqual(['NOT_FOUND']);
      expect((await watched.next()).done).toBe(true);

      // Stopping B cuts its open streams instead of waiting for them.
      const another = await onA(
        'mutation { createTrainingJob(input: { name: "open", bundeslaender: ["HH"] }) { id } }',
      );
      const open = client.iterate({
        query: PROGRESS_SUBSCRIPTION,
        variables: { jobId: another.data.createTrainingJob!.id },
      });
      await open.next();
      expect(await stopChild(servers[1]!.child, servers[1]!.exited)).toBe(0);
      // Updates already on their way may still arrive; then the stream must break, not end.
      const drain = async () => {
        for (;;) if ((await open.next()).done) return 'ended normally';
      };
      await expect(drain()).rejects.toThrow();
      expect(servers[1]!.output()).not.toContain('did not finish in time');
      client.dispose();
    } finally {
      await relay.stop();
      for (const server of servers) await stopChild(server.child, server.exited);
      await database.close();
    }
  },
);

test.skipIf(!onPostgres())(
  'a client on server B sees every status and each point once of a job that a runner elsewhere trains, paused and resumed on B',
  { timeout: 180_000 },
  async () => {
    const database = await createTestDatabase();
    // This process runs the job: an app on the same database, its bus relayed, a runner.
    const app = await createTestApp({ database });
    await importCorpus(database.db);
    const relay = await startPgRelay({
      sql: database.sql!,
      events: app.events,
      readJob: (id) => getJob(database.db, id),
      logger: pino({ level: 'silent' }),
    });
    const server = startChild({
      DATABASE_URL: database.url!,
      AUTH_TOKENS: `${TOKEN}:admin`,
      DEMO_DATA: 'false',
      WORKER: 'false',
    });
    const gate = gatedTrainer();
    const clients: ReturnType<typeof sseClient>[] = [];
    let runner: ReturnType<typeof startTestRunner> | undefined;
    try {
      const urlB = await server.ready;
      const onB = (action: string, id: string) =>
        fetch(urlB, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
          body: JSON.stringify({
            query: `mutation($id: ID!) { ${action}(id: $id) { status } }`,
            variables: { id },
          }),
        }).then(
          async (r) => ((await r.json()) as { data: Record<string, { status: string }> }).data,
        );

      const epochs = 2;
      const job = await createJob(app, jobInput('across', { epochs }));
      gate.hold(job.rowId, 0);
      const followers = [false, true].map((singleConnection) => {
        const client = sseClient({ url: `${urlB}/stream`, token: TOKEN, singleConnection });
        clients.push(client);
        return followWithClient(client, job.id);
      });
      await waitFor('the first updates on B', () => followers.every((f) => f.updates.length > 0));

      runner = startTestRunner({ db: database.db, events: app.events }, { trainer: gate.trainer });
      await gate.atGate(job.rowId, 0);
      const { totalSteps } = await jobRow(database.db, job.rowId);
      const epochEnd = totalSteps / epochs;
      gate.hold(job.rowId, epochEnd);
      await gate.atGate(job.rowId, epochEnd);
      // Paused on B: the runner here hears of it through the relay.
      expect((await onB('pauseTrainingJob', job.id)).pauseTrainingJob?.status).toBe('PAUSED');
      await waitFor(
        'the pause checkpoint',
        async () => (await checkpointOf(database.db, job.rowId))?.step === epochEnd,
      );
      gate.release(job.rowId);
      expect((await onB('resumeTrainingJob', job.id)).resumeTrainingJob?.status).toBe('QUEUED');
      await Promise.all(followers.map((f) => f.done));

      const stored = await pointsOf(database.db, job.rowId);
      expect(stored).toHaveLength(totalSteps);
      for (const { updates } of followers) {
        expectExactRules(updates, {
          statuses: PAUSED_AND_RESUMED,
          stored,
          stepsPerEpoch: epochEnd,
          statusesMayRepeat: true,
        });
      }
    } finally {
      await runner?.stop();
      for (const client of clients) client.dispose();
      await relay.stop();
      await stopChild(server.child, server.exited);
      await app.close();
      await database.close();
    }
  },
);
