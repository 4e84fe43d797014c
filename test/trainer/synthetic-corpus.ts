import { mulberry32 } from '../../src/training/trainers/builtin/prng.ts';
import type { Example } from '../../src/training/trainers/builtin/types.ts';

/**
 * A seeded synthetic corpus of German-like chunks of four document types. Each type has its own
 * vocabulary, some words are shared between types, most words are common function words, and a
 * share of chunks is written in the vocabulary of a random type (label noise), so a good
 * classifier is clearly above chance (25%) but not at 100%.
 */

const wordList = (text: string) => text.split(' ');

const VOCABULARY: Record<string, string[]> = {
  verordnung: wordList(
    'verordnung gemäß absatz inkrafttreten ermächtigung verordnet gesetzblatt vorschrift ordnungswidrigkeit geltungsbereich übergangsbestimmung außerkrafttreten landesregierung satz ministerium',
  ),
  schulordnung: wordList(
    'schüler schülerinnen unterricht klassenkonferenz hausordnung pause schulhof lehrkräfte erziehungsberechtigte ordnungsmaßnahme schulleitung fehlzeiten entschuldigung klassenbuch absatz',
  ),
  handreichung: wordList(
    'hinweise empfehlungen praxis beispiele materialien lehrkräfte unterstützung anregungen methoden fortbildung leitfaden umsetzung checkliste planung unterricht',
  ),
  erlass: wordList(
    'erlass runderlass dienststellen nachgeordneten bezug anordnung kultusministerium dienstweg berichtspflicht verwaltungsvorschrift zuständigkeit genehmigung aufsicht schulbehörde ministerium',
  ),
};

const COMMON = wordList(
  'der die das und in für mit von zu den ist werden nicht auf eine schule land jahr soweit sowie können sind bei nach über dass wird oder durch im',
);

export const DOC_TYPES = Object.keys(VOCABULARY);

export type CorpusOptions = {
  size: number;
  seed: number;
  /** Share of chunks written in the vocabulary of a random type (often another). Default 0.15. */
  labelNoise?: number;
  /** Words per chunk: min and max. Default 15..45. */
  words?: [number, number];
  /** Share of words that are random rare words (a long vocabulary tail). Default 0.05. */
  rareWords?: number;
};

const SYLLABLES = wordList(
  'ver schul ord nung be stim mung lan des recht amt lich keit stel le ge setz ung bil dung',
);

export function syntheticCorpus({
  size,
  seed,
  labelNoise = 0.15,
  words = [15, 45],
  rareWords = 0.05,
}: CorpusOptions): Example[] {
  const random = mulberry32(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const examples: Example[] = [];
  for (let i = 0; i < size; i++) {
    const label = DOC_TYPES[i % DOC_TYPES.length] as string;
    const source = random() < labelNoise ? pick(DOC_TYPES) : label;
    const length = words[0] + Math.floor(random() * (words[1] - words[0] + 1));
    const tokens: string[] = [];
    for (let w = 0; w < length; w++) {
      const r = random();
      if (r < rareWords) tokens.push(pick(SYLLABLES) + pick(SYLLABLES) + pick(SYLLABLES));
      else if (r < rareWords + 0.3) tokens.push(pick(VOCABULARY[source] as string[]));
      else if (r < rareWords + 0.4) tokens.push(pick(VOCABULARY[pick(DOC_TYPES)] as string[]));
      else tokens.push(pick(COMMON));
    }
    if (random() < 0.3) tokens.push(`§ ${1 + Math.floor(random() * 40)}`);
    const text = tokens.join(' ');
    examples.push({ text: `${text.charAt(0).toUpperCase()}${text.slice(1)}.`, label });
  }
  return examples;
}
