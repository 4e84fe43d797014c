import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeGlobalID } from '@pothos/plugin-relay';
import { afterEach, describe, expect, test } from 'vitest';
import type { Db } from '../../src/db/client.ts';
import { openConfiguredDatabase } from '../../src/db/open.ts';
import { createTestDatabase, repoRoot } from '../support/databases.ts';
import { startCommand } from '../support/processes.ts';
import {
  checkpointOf,
  importCorpus,
  jobInput,
  jobRow,
  outcomeOf,
  pointsOf,
  steps,
  waitFor,
} from './runner-support.ts';

// A real server process is killed (SIGKILL) while it trains a job; a new server on the same
// data adopts the job once the dead one's lease has expired and finishes it. The result must be
// the one an uninterrupted run gives.

const TOKEN = 'crash-test-token-0123456789';

const SERVER_ENV = {
  PORT: '0',
  LOG_FORMAT: 'json',
  AUTH_TOKENS: `${TOKEN}:admin`,
  DEMO_DATA: 'false',
  LEASE_MS: '1500',
  CHECKPOINT_INTERVAL_MS: '300',
  PROGRESS_FLUSH_MS: '50',
  RUNNER_POLL_MS: '200',
  TRAINING_CONCURRENCY: '1',
};

/** About 850 single-example steps: a few seconds in the worker, so a kill lands mid-way. */
const CONFIG = jobInput('crashed', {
  bundeslaender: ['NW', 'BY', 'SN'],
  batchSize: 1,
  epochs: 25,
});

type Server = {
  child: ChildProcess;
  url: Promise<string>;
  exited: Promise<number | null>;
  output(): string;
};

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

function startServer(env: Record<string, string>): Server {
  const [node, ...args] = startCommand();
  const child = spawn(node as string, args, {
    cwd: repoRoot,
    env: { ...process.env, ...SERVER_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk;
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const url = new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', () => {
      const match = output.match(/"url":"([^"]+)"/);
      if (match?.[1]) resolve(match[1]);
    });
    child.on('exit', (code, signal) =>
      reject(new Error(`server exited (${code ?? signal}) before listening: ${output}`)),
    );
  });
  url.catch(() => {});
  return { child, url, exited, output: () => output };
}

async function gqlAt<T>(url: string, query: string, variables?: Record<string, unknown>) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data as T;
}

type JobState = { status: string; currentStep: number; totalSteps: number };
const jobState = async (url: string, id: string) =>
  (
    await gqlAt<{ trainingJob: JobState }>(
      url,
      'query($id: ID!) { trainingJob(id: $id) { status currentStep totalSteps } }',
      { id },
    )
  ).trainingJob;

const createJob = async (url: string, input: Record<string, unknown>) => {
  const data = await gqlAt<{ createTrainingJob: { id: string } }>(
    url,
    'mutation($input: TrainingConfigInput!) { createTrainingJob(input: $input) { id } }',
    { input },
  );
  return data.createTrainingJob.id;
};

const rowIdOf = (globalId: string) => decodeGlobalID(globalId).id;

/** The two backends: the test reads the database between server lives. */
type Backend = {
  env: Record<string, string>;
  /** Runs `read` on the database while no server holds it (PGlite is one process's). */
  inspect<T>(read: (db: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
};

async function pgliteBackend(): Promise<Backend> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'crash-'));
  const open = () => openConfiguredDatabase({ dataDir, databaseUrl: undefined });
  const setup = await open();
  await importCorpus(setup.db);
  await setup.close();
  return {
    env: { DATA_DIR: dataDir, DATABASE_URL: '' },
    async inspect(read) {
      // A killed server leaves its lock file behind: the lock must see that its holder is gone.
      const database = await open();
      try {
        return await read(database.db);
      } finally {
        await database.close();
      }
    },
    close: async () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

async function postgresBackend(): Promise<Backend> {
  const database = await createTestDatabase();
  await importCorpus(database.db);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'crash-'));
  return {
    env: { DATA_DIR: dataDir, DATABASE_URL: database.url as string },
    inspect: (read) => read(database.db),
    async close() {
      await database.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const backends: [string, () => Promise<Backend>, boolean][] = [
  ['PGlite', pgliteBackend, false],
  ['PostgreSQL', postgresBackend, !process.env.DATABASE_URL],
];

describe('crash recovery', () => {
  for (const [name, open, skip] of backends) {
    test.skipIf(skip)(
      `${name}: a server killed mid-training is adopted by the next one after the lease; every step once, one version, the uninterrupted result`,
      {
        timeout: 240_000,
      },
      async () => {
        const backend = await open();
        try {
          let server = startServer(backend.env);
          let url = await server.url;
          const id = await createJob(url, CONFIG);
          const jobId = rowIdOf(id);

          // Kill it while it trains, at a moment with points stored past the last checkpoint
          // (those must be dropped and recomputed, not kept twice). A kill that lands just after a
          // checkpoint shows nothing to drop: then let a new server adopt the job, and kill again.
          let crash:
            | { checkpoint: number; lastPoint: number; leaseOwner: string | null }
            | undefined;
          for (let attempt = 1; attempt <= 4 && !crash; attempt++) {
            const from = attempt === 1 ? 0 : (await jobState(url, id)).currentStep;
            await waitFor(
              'the job to train a while',
              async () => {
                const state = await jobState(url, id);
                if (state.status !== 'TRAINING') return false;
                return state.currentStep >= from + Math.max(100, state.totalSteps * 0.2);
              },
              { timeoutMs: 60_000, everyMs: 50 },
            );
            server.child.kill('SIGKILL');
            await server.exited;
            const seen = await backend.inspect(async (db) => {
              const checkpoint = await checkpointOf(db, jobId);
              const points = await pointsOf(db, jobId);
              const job = await jobRow(db, jobId);
              return {
                checkpoint: checkpoint?.step ?? 0,
                lastPoint: points.at(-1)?.step ?? 0,
                leaseOwner: job.leaseOwner,
                status: job.status,
                totalSteps: job.totalSteps,
              };
            });
            expect(seen.status).toBe('TRAINING');
            expect(seen.lastPoint).toBeLessThan(seen.totalSteps);
            if (seen.checkpoint > 0 && seen.lastPoint > seen.checkpoint) crash = seen;
            server = startServer(backend.env);
            url = await server.url;
          }
          if (!crash) throw new Error('no kill landed with points past a checkpoint');

          // The new server adopts the job once the lease of the killed one has run out.
          await waitFor(
            'the adopted job to complete',
            async () => (await jobState(url, id)).status === 'COMPLETED',
            { timeoutMs: 120_000, everyMs: 100 },
          );
          const referenceId = await createJob(url, { ...CONFIG, name: 'reference' });
          await waitFor(
            'the reference job to complete',
            async () => (await jobState(url, referenceId)).status === 'COMPLETED',
            { timeoutMs: 120_000, everyMs: 100 },
          );
          server.child.kill('SIGTERM');
          expect(await server.exited).toBe(0);

          await backend.inspect(async (db) => {
            const crashed = await outcomeOf(db, jobId);
            const reference = await outcomeOf(db, rowIdOf(referenceId));
            expect(crashed.points.map((p) => p.step)).toEqual(steps(crashed.job.totalSteps));
            expect(crashed.versions).toHaveLength(1);
            expect(crashed).toEqual(reference);
            expect(await checkpointOf(db, jobId)).toBeUndefined();
            const job = await jobRow(db, jobId);
            expect(job.leaseOwner).not.toBe(crash?.leaseOwner);
            expect(job.leaseOwner).toContain(`:${server.child.pid}:`);
          });
        } finally {
          await backend.close();
        }
      },
    );
  }
});
