import { z } from 'zod';
import type { Logger } from '../../../logger.ts';
import { CONFIG_LIMITS } from '../../../vocabulary/training.ts';
import type { Recommendation, RunShape } from '../port.ts';
import { trainerEnv } from './environment.ts';
import { LINE_TIMEOUT, TrainerProcess } from './process.ts';
import { logStderrLine } from './stderr-log.ts';

/**
 * What a command trainer gets for the settings a job leaves out when its describe answer gives
 * none: the prototype's values, made for fine-tuning a pretrained transformer.
 */
export const COMMAND_FALLBACK = { learningRate: 0.00005, warmupSteps: 500 } as const;

export const DESCRIBE_TIMEOUT_MS = 30_000;

/** A trainer command's answer to TRAINER_MODE=describe, its invalid parts left out. */
export type Description = {
  learningRate?: number;
  warmup?: { steps: number } | { ratio: number };
  /** Whether it has a predict mode; undefined: it did not say (or did not answer). */
  predict?: boolean;
};

const L = CONFIG_LIMITS;
const answerSchema = z.object({
  type: z.literal('describe'),
  version: z.literal(1),
  defaults: z.record(z.string(), z.unknown()),
  predict: z.boolean().optional(),
});
const learningRate = z.number().min(L.learningRate.min).max(L.learningRate.max);
const warmupSteps = z.number().int().min(L.warmupSteps.min).max(L.warmupSteps.max);
const warmupRatio = z.number().min(L.warmupRatio.min).max(L.warmupRatio.max);

export type DescribeOptions = {
  cwd?: string;
  timeoutMs?: number;
  logger?: Logger;
};

// Per command and working folder (a relative path in the command depends on it) for the life of
// the process, failures too: a broken command costs one timeout, not one per request.
const cache = new Map<string, Promise<Description>>();

/** The command's description, asked once per command and folder on first need. */
export function describeCommand(
  command: string,
  options: DescribeOptions = {},
): Promise<Description> {
  const key = `${options.cwd ?? process.cwd()}\0${command}`;
  let description = cache.get(key);
  if (!description) {
    description = askCommand(command, options);
    cache.set(key, description);
  }
  return description;
}

/** A command's recommendation for a run: its declared defaults, the fallback for the rest. */
export function recommendationOf(description: Description, run: RunShape): Recommendation {
  const { warmup } = description;
  return {
    learningRate: description.learningRate ?? COMMAND_FALLBACK.learningRate,
    warmupSteps: !warmup
      ? COMMAND_FALLBACK.warmupSteps
      : 'steps' in warmup
        ? warmup.steps
        : Math.round(warmup.ratio * run.totalSteps),
  };
}

async function askCommand(command: string, options: DescribeOptions): Promise<Description> {
  const { cwd = process.cwd(), timeoutMs = DESCRIBE_TIMEOUT_MS } = options;
  const log = options.logger?.child({ trainer: 'command', mode: 'describe' });
  const fallback = (reason: string): Description => {
    log?.warn(
      { command, fallback: COMMAND_FALLBACK },
      `the trainer command's describe answer gives no defaults (${reason}): using the fallback`,
    );
    return {};
  };
  const proc = new TrainerProcess({
    command,
    cwd,
    env: trainerEnv({ TRAINER_MODE: 'describe' }),
    onStderrLine: log ? (line) => logStderrLine(log, line) : undefined,
  });
  proc.closeStdin();
  try {
    const line = await proc.nextAnswerLine(timeoutMs);
    if (line === LINE_TIMEOUT) return fallback(`no answer within ${timeoutMs} ms`);
    if (line === null) return fallback(await proc.exitReason('without an answer'));
    return parseAnswer(line, fallback, log);
  } catch (error) {
    return fallback(error instanceof Error ? error.message : String(error));
  } finally {
    await proc.terminate(0);
  }
}

function parseAnswer(
  line: string,
  fallback: (reason: string) => Description,
  log: Logger | undefined,
): Description {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return fallback(`its first line is not JSON: ${line.slice(0, 200)}`);
  }
  const answer = answerSchema.safeParse(json);
  if (!answer.success) {
    return fallback(`its first line is not a describe answer: ${line.slice(0, 200)}`);
  }
  const { defaults, predict } = answer.data;
  const description: Description = { predict };
  const problems: string[] = [];
  const rate = learningRate.safeParse(defaults.learningRate);
  if (rate.success) description.learningRate = rate.data;
  else problems.push(`learningRate ${JSON.stringify(defaults.learningRate) ?? 'missing'}`);
  const steps = warmupSteps.safeParse(defaults.warmupSteps);
  const ratio = warmupRatio.safeParse(defaults.warmupRatio);
  if (defaults.warmupSteps !== undefined && defaults.warmupRatio !== undefined) {
    problems.push('both warmupSteps and warmupRatio');
  } else if (steps.success) description.warmup = { steps: steps.data };
  else if (ratio.success) description.warmup = { ratio: ratio.data };
  else {
    const given = defaults.warmupSteps ?? defaults.warmupRatio;
    problems.push(`warm-up ${JSON.stringify(given) ?? 'missing'}`);
  }
  if (problems.length > 0) {
    log?.warn(
      { fallback: COMMAND_FALLBACK },
      `the trainer command's describe answer has no valid ${problems.join(', ')}: the fallback applies there`,
    );
  }
  return description;
}
