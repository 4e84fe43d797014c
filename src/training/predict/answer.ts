import { z } from 'zod';
import type { Classification } from '../trainers/builtin/index.ts';

/** How far a prediction's probabilities may sum from 1. */
const SUM_TOLERANCE = 1e-3;

const readySchema = z.object({
  type: z.literal('ready'),
  labels: z.array(z.string().min(1)).min(1).optional(),
});

const probabilitySchema = z.object({
  label: z.string().min(1),
  probability: z.number().min(0).max(1),
});

const answerSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('predictions'),
    id: z.number(),
    predictions: z.array(
      z.object({ label: z.string().min(1), probabilities: z.array(probabilitySchema).min(1) }),
    ),
  }),
  z.object({ type: z.literal('error'), id: z.number(), message: z.string() }),
]);

/** A model process broke the protocol; the message quotes what it wrote. */
export class PredictProtocolError extends Error {}

/** The model process answered a request with `type: "error"`: that request fails, it serves on. */
export class PredictRequestError extends Error {}

const quote = (line: string) => JSON.stringify(line.length > 200 ? `${line.slice(0, 200)}…` : line);

function parseJson(line: string, what: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    throw new PredictProtocolError(
      `the model process wrote ${quote(line)} as its ${what}: not JSON`,
    );
  }
}

const issuesOf = (error: z.ZodError) =>
  error.issues.map((i) => `${i.path.join('.') || 'line'}: ${i.message}`).join('; ');

/** The `ready` line's labels (undefined: it gave none). */
export function parseReady(line: string): string[] | undefined {
  const parsed = readySchema.safeParse(parseJson(line, 'ready line'));
  if (!parsed.success) {
    throw new PredictProtocolError(
      `the model process wrote ${quote(line)} instead of its ready line: ${issuesOf(parsed.error)}`,
    );
  }
  return parsed.data.labels;
}

/**
 * The classifications of an answer to request `id` for `count` texts, validated: one per text,
 * each with every label once (the ready line's, when it gave them), probabilities that sum to 1,
 * most likely first; `label` the most likely one. An `error` answer throws PredictRequestError,
 * anything else PredictProtocolError.
 */
export function parseAnswer(
  line: string,
  id: number,
  count: number,
  labels: readonly string[] | undefined,
): Classification[] {
  const parsed = answerSchema.safeParse(parseJson(line, 'answer'));
  const wrong = (why: string) =>
    new PredictProtocolError(
      `the model process answered request ${id} with ${quote(line)}: ${why}`,
    );
  if (!parsed.success) throw wrong(issuesOf(parsed.error));
  const answer = parsed.data;
  if (answer.id !== id) throw wrong(`the answer is for request ${answer.id}`);
  if (answer.type === 'error') throw new PredictRequestError(answer.message);
  if (answer.predictions.length !== count) {
    throw wrong(`${answer.predictions.length} predictions for ${count} texts`);
  }
  return answer.predictions.map((prediction, i) => {
    const ranked = [...prediction.probabilities].sort((a, b) => b.probability - a.probability);
    const names = new Set(ranked.map((p) => p.label));
    if (names.size !== ranked.length) throw wrong(`prediction ${i} lists a label twice`);
    if (labels && (names.size !== labels.length || labels.some((l) => !names.has(l)))) {
      throw wrong(`prediction ${i} does not list exactly the labels ${labels.join(', ')}`);
    }
    const sum = ranked.reduce((total, p) => total + p.probability, 0);
    if (Math.abs(sum - 1) > SUM_TOLERANCE) {
      throw wrong(`the probabilities of prediction ${i} sum to ${sum}, not 1`);
    }
    const top = ranked[0] as { label: string; probability: number };
    // Of labels tied for the top, the model's choice stands.
    const named = ranked.find((p) => p.label === prediction.label);
    if (!named || named.probability < top.probability) {
      throw wrong(`prediction ${i} names ${prediction.label}, not its most likely ${top.label}`);
    }
    return { label: prediction.label, probabilities: ranked };
  });
}
