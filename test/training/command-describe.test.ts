import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  COMMAND_FALLBACK,
  describeCommand,
  recommendationOf,
} from '../../src/training/trainers/command/describe.ts';
import { createTestApp, ok, type TestApp, testSettings } from '../support/app.ts';
import type { TestDatabase } from '../support/databases.ts';
import { repoRoot } from '../support/databases.ts';

// The describe answer of TRAINER_COMMAND gives the defaults of a job that leaves them out.
const TINY = `python3 ${repoRoot}/trainers/python/tiny_trainer.py`;

let base: TestApp;
let dir: string;
beforeAll(async () => {
  base = await createTestApp({ trainingData: true });
  dir = await mkdtemp(path.join(tmpdir(), 'describe-test-'));
});
afterAll(async () => {
  await base?.close();
  await rm(dir, { recursive: true, force: true });
});

/** An app with TRAINER=command on the shared database, logging into `records`. */
async function commandApp(trainerCommand: string, database: TestDatabase = base.database) {
  const records: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => records.push(JSON.parse(line)) },
  );
  const app = await createTestApp({
    database,
    logger,
    settings: testSettings({ TRAINER: 'command', TRAINER_COMMAND: trainerCommand }),
  });
  return { app, records };
}

type Plan = { totalSteps: number; learningRate: number; warmupSteps: number };
const PLAN = `query($input: TrainingConfigInput!) {
  trainingPlan(input: $input) { totalSteps learningRate warmupSteps }
}`;
const INPUT = { name: 'describe', bundeslaender: ['NW'], batchSize: 2, epochs: 3 };
const planOf = async (app: TestApp, input: Record<string, unknown> = INPUT) =>
  ok(await app.gql<{ trainingPlan: Plan }>(PLAN, { input })).trainingPlan;

const answer = (defaults: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  `echo '${JSON.stringify({ type: 'describe', version: 1, defaults, ...extra })}'`;

describe('the describe answer of a command trainer', () => {
  it('gives the plan and the job the kit trainer’s declared defaults, asked once per command', async () => {
    const calls = path.join(dir, 'calls');
    const { app } = await commandApp(`echo call >> ${calls}; ${TINY}`);
    try {
      // tiny_trainer.py declares learning_rate=0.1, warmup_ratio=0.1.
      const plan = await planOf(app);
      expect(plan.learningRate).toBe(0.1);
      expect(plan.warmupSteps).toBe(Math.round(0.1 * plan.totalSteps));
      const { createTrainingJob: job } = ok(
        await app.gql<{
          createTrainingJob: {
            config: { learningRate: number; warmupSteps: number; defaultsApplied: string[] };
          };
        }>(
          `mutation($input: TrainingConfigInput!) { createTrainingJob(input: $input) {
            config { learningRate warmupSteps defaultsApplied }
          } }`,
          { input: INPUT },
        ),
      );
      expect(job.config).toEqual({
        learningRate: 0.1,
        warmupSteps: plan.warmupSteps,
        defaultsApplied: ['learningRate', 'warmupSteps'],
      });
      // Given values win over the trainer's.
      expect(await planOf(app, { ...INPUT, learningRate: 0.01, warmupSteps: 3 })).toMatchObject({
        learningRate: 0.01,
        warmupSteps: 3,
      });
      expect((await readFile(calls, 'utf8')).trim().split('\n')).toEqual(['call']);
    } finally {
      await app.close();
    }
  });

  it('takes warmupSteps as declared', async () => {
    const { app } = await commandApp(answer({ learningRate: 0.003, warmupSteps: 7 }));
    try {
      expect(await planOf(app)).toMatchObject({ learningRate: 0.003, warmupSteps: 7 });
    } finally {
      await app.close();
    }
  });

  it('falls back to 5e-5 and 500 for a field that is invalid, with one warning naming it', async () => {
    const { app, records } = await commandApp(answer({ learningRate: 5, warmupSteps: 7 }));
    try {
      expect(await planOf(app)).toMatchObject({ learningRate: 0.00005, warmupSteps: 7 });
      await planOf(app);
      const warnings = records.filter((r) => r.level === 40);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]?.msg).toMatch(/no valid learningRate 5/);
    } finally {
      await app.close();
    }
  });

  it.each([
    ['a line that is not the answer', 'echo hello', /not JSON/],
    ['a non-zero exit', 'echo oops >&2; exit 3', /exited with code 3 without an answer: oops/],
    ['both warm-ups', answer({ learningRate: 0.01, warmupSteps: 1, warmupRatio: 0.1 }), /both/],
  ])('falls back on %s', async (_name, command, reason) => {
    const { app, records } = await commandApp(command);
    try {
      const plan = await planOf(app);
      expect(plan.warmupSteps).toBe(COMMAND_FALLBACK.warmupSteps);
      const warning = records.find((r) => r.level === 40);
      expect(warning?.msg).toMatch(reason);
    } finally {
      await app.close();
    }
  });

  it('gives up on a command that does not answer in time, and kills it', async () => {
    const pidFile = path.join(dir, 'sleeper');
    const description = await describeCommand(`echo $$ > ${pidFile}; sleep 30`, {
      timeoutMs: 300,
    });
    expect(description).toEqual({});
    expect(recommendationOf(description, { trainExamples: 10, totalSteps: 10 })).toEqual(
      COMMAND_FALLBACK,
    );
    const pid = Number(await readFile(pidFile, 'utf8'));
    expect(() => process.kill(pid, 0)).toThrow();
  });

  it('asks a command again in another folder, where its relative paths name other files', async () => {
    const folders = await Promise.all(['a', 'b'].map((name) => mkdtemp(path.join(dir, name))));
    const script = 'describe-here.sh';
    await Promise.all(
      folders.map((folder, i) =>
        writeFile(path.join(folder, script), answer({ learningRate: i === 0 ? 0.01 : 0.02 })),
      ),
    );
    const command = `sh ${script}`;
    const [first, second] = await Promise.all(
      folders.map((cwd) => describeCommand(command, { cwd })),
    );
    expect([first?.learningRate, second?.learningRate]).toEqual([0.01, 0.02]);
  });
});
