import { z } from 'zod';
import type { EvalMetrics, Example, TrainerConfig, TrainerEvent } from '../builtin/types.ts';

/** The JSON file TRAINER_INPUT names (docs/trainer-command.md). */
export type CommandInput = {
  version: 1;
  jobId: string;
  config: TrainerConfig;
  examples: Example[];
  /** A file holding the bytes of the checkpoint to resume from, or null for a fresh run. */
  checkpoint: string | null;
};

const count = z.number().int().nonnegative();
const metric = z.number().min(0).max(1);

const lineSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('prepared'),
    totalSteps: z.number().int().positive(),
    stepsPerEpoch: z.number().int().positive(),
    trainSize: z.number().int().positive(),
    validationSize: count,
    labels: z.array(z.string().min(1)).min(1),
    precision: z.enum(['fp32', 'fp16', 'bf16']),
    resumedFromStep: count,
    note: z.string().optional(),
    validationIndices: z.array(count).optional(),
  }),
  z.object({
    type: z.literal('step'),
    step: z.number().int().positive(),
    epoch: count,
    loss: z.number(),
    learningRate: z.number().nonnegative(),
    examplesSeen: count,
  }),
  z.object({
    type: z.literal('eval'),
    step: count,
    epoch: count,
    valLoss: z.number(),
    precision: metric,
    recall: metric,
    f1: metric,
    accuracy: metric,
    final: z.boolean(),
  }),
  z.object({
    type: z.literal('checkpoint'),
    step: count,
    epoch: count,
    path: z.string().min(1),
  }),
  z.object({ type: z.literal('artifact'), path: z.string().min(1) }),
]);

export type ProtocolLine = z.infer<typeof lineSchema>;

/** A trainer broke the protocol; the message names the offending line. */
export class ProtocolError extends Error {}

const MAX_QUOTED = 200;
const quote = (line: string) =>
  JSON.stringify(line.length > MAX_QUOTED ? `${line.slice(0, MAX_QUOTED)}…` : line);

/** Parses and validates one stdout line; blank lines are allowed and give null. */
export function parseLine(line: string, lineNumber: number): ProtocolLine | null {
  if (line.trim() === '') return null;
  const where = `trainer command wrote an invalid line ${lineNumber} ${quote(line)}`;
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    throw new ProtocolError(`${where}: not JSON (logs belong on stderr)`);
  }
  const parsed = lineSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'line'}: ${i.message}`);
    throw new ProtocolError(`${where}: ${issues.join('; ')}`);
  }
  return parsed.data;
}

/** What a trainer that exited with code 0 left: its result, or why there is none. */
export type Ending =
  | { kind: 'done'; event: Extract<TrainerEvent, { type: 'done' }> }
  | { kind: 'none'; reason: string };

/**
 * Turns protocol lines into TrainerEvents and checks their order: `prepared` first and once,
 * nothing after `artifact`, an `eval` before the `artifact` (its metrics become `done`'s).
 * Files named by `checkpoint` and `artifact` are read by `readFile` as their line arrives.
 */
export class EventTranslator {
  #prepared = false;
  #lastEval: EvalMetrics | null = null;
  #artifact: Uint8Array | null = null;
  #pauseRequested = false;
  #pauseAnswered = false;
  #artifactSeen = false;

  constructor(
    private readonly readFile: (path: string) => Promise<Uint8Array>,
    private readonly exampleCount: number,
  ) {}

  get prepared(): boolean {
    return this.#prepared;
  }

  /** The `artifact` line arrived (its file may still be being read). */
  get artifactSeen(): boolean {
    return this.#artifactSeen;
  }

  /** A checkpoint came after the pause was asked for: the events end with it. */
  get pauseAnswered(): boolean {
    return this.#pauseAnswered;
  }

  /** From now on a checkpoint is the answer to a pause, after which the trainer exits 0. */
  pauseRequested(): void {
    this.#pauseRequested = true;
  }

  async translate(line: ProtocolLine, lineNumber: number): Promise<TrainerEvent | null> {
    const fail = (why: string) => new ProtocolError(`trainer command line ${lineNumber}: ${why}`);
    if (this.#artifact) throw fail(`"${line.type}" after the artifact`);
    if (line.type === 'prepared') {
      if (this.#prepared) throw fail('a second "prepared"');
      const indices = line.validationIndices;
      if (
        indices &&
        (indices.length !== line.validationSize ||
          new Set(indices).size !== indices.length ||
          indices.some((i) => i >= this.exampleCount))
      ) {
        throw fail('validationIndices must be validationSize distinct indices of the examples');
      }
      this.#prepared = true;
      // The runner logs the note when mixed precision was asked for; say what actually happens.
      return { ...line, note: line.note ?? `the trainer command trains in ${line.precision}` };
    }
    if (!this.#prepared) throw fail(`"${line.type}" before "prepared"`);
    switch (line.type) {
      case 'step':
        return line;
      case 'eval': {
        const { valLoss, precision, recall, f1, accuracy } = line;
        this.#lastEval = { valLoss, precision, recall, f1, accuracy };
        return line;
      }
      case 'checkpoint': {
        const state = await this.readFile(line.path);
        if (this.#pauseRequested) this.#pauseAnswered = true;
        return { type: 'checkpoint', step: line.step, epoch: line.epoch, state };
      }
      case 'artifact':
        this.#artifactSeen = true;
        if (!this.#lastEval) throw fail('"artifact" without an "eval" before it');
        this.#artifact = await this.readFile(line.path);
        return null;
    }
  }

  /** How the session ends once the trainer exited with code 0. */
  ending(): Ending {
    if (this.#artifact && this.#lastEval) {
      return {
        kind: 'done',
        event: { type: 'done', artifact: this.#artifact, metrics: this.#lastEval },
      };
    }
    return {
      kind: 'none',
      reason: this.#pauseRequested ? 'without a checkpoint after the pause' : 'without an artifact',
    };
  }
}
