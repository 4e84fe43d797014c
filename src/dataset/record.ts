import { z } from 'zod';
import { BUNDESLAND_CODES } from '../vocabulary/bundeslaender.ts';
import { DOC_TYPES } from '../vocabulary/doc-types.ts';

export const LIMITS = {
  title: 500,
  /** Characters of one document's text (about 150 pages). */
  text: 1_000_000,
  source: 2_000,
} as const;

/** The message for a missing field, or the given one for a wrong value. */
const message = (field: string, wrong: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? `${field} is required` : wrong;

/** PostgreSQL text cannot hold U+0000; without this rule one such line would fail its batch. */
const noNul = (field: string) =>
  [(s: string) => !s.includes('\0'), { error: `${field} must not contain NUL (\\u0000)` }] as const;

const text = (field: string, max: number) =>
  z
    .string({ error: message(field, `${field} must be a string`) })
    .trim()
    .min(1, { error: `${field} must not be empty` })
    .max(max, { error: `${field} must be at most ${max} characters` })
    .refine(...noNul(field));

/** One line of an import file, as the contract defines it. Unknown keys are ignored. */
export const documentRecordSchema = z.object(
  {
    title: text('title', LIMITS.title),
    text: text('text', LIMITS.text),
    bundesland: z.enum(BUNDESLAND_CODES, {
      error: message('bundesland', `bundesland must be one of ${BUNDESLAND_CODES.join(' ')}`),
    }),
    docType: z.enum(DOC_TYPES, {
      error: message('docType', `docType must be one of ${DOC_TYPES.join(' ')}`),
    }),
    trainingAllowed: z.boolean({
      error: message('trainingAllowed', 'trainingAllowed must be true or false'),
    }),
    source: z
      .string({ error: 'source must be a string' })
      .trim()
      .max(LIMITS.source, { error: `source must be at most ${LIMITS.source} characters` })
      .refine(...noNul('source'))
      .nullish()
      .transform((s) => s || null),
  },
  { error: 'a line must be a JSON object' },
);

export type DocumentRecord = z.output<typeof documentRecordSchema>;

export type ParsedLine = { ok: true; record: DocumentRecord } | { ok: false; reason: string };

/** Parses and validates one line; the reason names every offending field. */
export function parseLine(line: string): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return { ok: false, reason: `not valid JSON (${(error as Error).message})` };
  }
  const result = documentRecordSchema.safeParse(value);
  if (result.success) return { ok: true, record: result.data };
  return { ok: false, reason: result.error.issues.map((issue) => issue.message).join('; ') };
}
