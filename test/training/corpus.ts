import { mulberry32 } from '../../src/training/trainers/builtin/prng.ts';
import { DOC_TYPES } from '../../src/vocabulary/doc-types.ts';

/**
 * A small seeded corpus of import records (the JSON Lines of CONTRACT.md): every document type
 * in every given state, short German-like texts with a type vocabulary, common words and a tail
 * of rare made-up words (which sets how many hash buckets, so how much work, a step has). Every
 * `notAllowedEvery`-th document is not training-allowed, so a job must filter.
 */
export type CorpusOptions = {
  states?: string[];
  /** Documents per (state, document type). */
  perTypeAndState?: number;
  seed?: number;
  /** Words per document: min and max. */
  words?: [number, number];
  rareWords?: number;
  notAllowedEvery?: number;
};

const VOCABULARY: Record<string, string[]> = {
  verordnung:
    'verordnung gemäß absatz inkrafttreten ermächtigung verordnet gesetzblatt vorschrift geltungsbereich landesregierung'.split(
      ' ',
    ),
  schulordnung:
    'schüler unterricht klassenkonferenz hausordnung pause schulhof erziehungsberechtigte ordnungsmaßnahme fehlzeiten klassenbuch'.split(
      ' ',
    ),
  handreichung:
    'hinweise empfehlungen praxis beispiele materialien anregungen methoden fortbildung leitfaden checkliste'.split(
      ' ',
    ),
  erlass:
    'erlass runderlass dienststellen nachgeordneten anordnung kultusministerium dienstweg berichtspflicht verwaltungsvorschrift aufsicht'.split(
      ' ',
    ),
};
const COMMON =
  'der die das und in für mit von zu den ist werden nicht auf eine schule land jahr sowie können sind bei nach über dass wird oder durch im'.split(
    ' ',
  );
const SYLLABLES =
  'ver schul ord nung be stim lan des recht amt lich keit stel ge setz bil dung'.split(' ');

export type CorpusRecord = {
  title: string;
  text: string;
  bundesland: string;
  docType: string;
  trainingAllowed: boolean;
  source: string;
};

export function corpusRecords({
  states = ['NW', 'BY', 'SN'],
  perTypeAndState = 4,
  seed = 7,
  words = [30, 60],
  rareWords = 0.2,
  notAllowedEvery = 7,
}: CorpusOptions = {}): CorpusRecord[] {
  const random = mulberry32(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const records: CorpusRecord[] = [];
  for (const state of states) {
    for (const docType of DOC_TYPES) {
      for (let i = 0; i < perTypeAndState; i++) {
        const length = words[0] + Math.floor(random() * (words[1] - words[0] + 1));
        const tokens: string[] = [];
        for (let w = 0; w < length; w++) {
          const r = random();
          if (r < rareWords) tokens.push(pick(SYLLABLES) + pick(SYLLABLES) + pick(SYLLABLES));
          else if (r < rareWords + 0.35) tokens.push(pick(VOCABULARY[docType] as string[]));
          else tokens.push(pick(COMMON));
        }
        const n = records.length + 1;
        records.push({
          title: `${docType} ${state} ${i + 1}`,
          text: `${tokens.join(' ')} (Nr. ${seed}-${n})`,
          bundesland: state,
          docType,
          trainingAllowed: n % notAllowedEvery !== 0,
          source: 'generated for runner tests',
        });
      }
    }
  }
  return records;
}

export const toJsonl = (records: readonly unknown[]) =>
  `${records.map((r) => JSON.stringify(r)).join('\n')}\n`;
