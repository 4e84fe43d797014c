import { mulberry32 } from '../src/training/trainers/builtin/prng.ts';

/**
 * SYNTHETIC school documents for demos, tests and benchmarks: invented German text in the style
 * of the four document types, for all 16 states. None of it is a real regulation.
 *
 * Each type has its typical phrasing, but documents also borrow sentences from a shared pool and
 * from the other types, vary widely in length and carry some typos, so that a bag-of-words
 * classifier of the type learns something without the task being trivial.
 */

import {
  BUNDESLAENDER,
  BUNDESLAND_CODES,
  type Bundesland,
} from '../src/vocabulary/bundeslaender.ts';
import { DOC_TYPES, type DocType } from '../src/vocabulary/doc-types.ts';

/** Documents in demo/documents.jsonl: 10 of each state and type. */
export const DEMO_CORPUS_SIZE = 640;

export type SyntheticDocument = {
  title: string;
  text: string;
  bundesland: Bundesland;
  docType: DocType;
  trainingAllowed: boolean;
  source: string;
};

const MINISTRY: Record<Bundesland, string> = {
  BW: 'KM',
  BY: 'StMUK',
  BE: 'SenBJF',
  BB: 'MBJS',
  HB: 'SKB',
  HH: 'BSB',
  HE: 'HKM',
  MV: 'BM',
  NI: 'MK',
  NW: 'MSB',
  RP: 'BM',
  SL: 'MBK',
  SN: 'SMK',
  ST: 'MB',
  SH: 'MBWFK',
  TH: 'TMBJS',
};

const SCHOOL_LAW: Record<Bundesland, string> = {
  BW: 'SchG',
  BY: 'BayEUG',
  BE: 'SchulG',
  BB: 'BbgSchulG',
  HB: 'BremSchulG',
  HH: 'HmbSG',
  HE: 'HSchG',
  MV: 'SchulG M-V',
  NI: 'NSchG',
  NW: 'SchulG NRW',
  RP: 'SchulG',
  SL: 'SchoG',
  SN: 'SächsSchulG',
  ST: 'SchulG LSA',
  SH: 'SchulG',
  TH: 'ThürSchulG',
};

const TOPICS = [
  'Leistungsbewertung',
  'Versetzung',
  'Schulpflicht',
  'Ganztagsangebote',
  'Inklusion',
  'Schulfahrten',
  'Datenschutz an Schulen',
  'Abiturprüfung',
  'Zeugnisse',
  'Hausaufgaben',
  'Schulversäumnisse',
  'Förderunterricht',
  'Sprachförderung',
  'digitale Endgeräte',
  'Elternmitwirkung',
  'Schülervertretung',
  'Aufsichtspflicht',
  'Lernmittelfreiheit',
  'Berufsorientierung',
  'Nachteilsausgleich',
];

const SCHOOL_TYPES = [
  'Grundschulen',
  'Gymnasien',
  'Gesamtschulen',
  'Realschulen',
  'Oberschulen',
  'Förderschulen',
  'berufliche Schulen',
  'Gemeinschaftsschulen',
];

const SUBJECTS = [
  'Deutsch',
  'Mathematik',
  'Englisch',
  'Sachunterricht',
  'Biologie',
  'Geschichte',
  'Sport',
  'Musik',
  'Informatik',
  'Religion',
];

const MONTHS = [
  'Januar',
  'Februar',
  'März',
  'April',
  'Mai',
  'Juni',
  'Juli',
  'August',
  'September',
  'Oktober',
  'November',
  'Dezember',
];

/** Sentences only or mostly found in one document type; `{…}` are filled per use. */
const TYPICAL: Record<DocType, string[]> = {
  verordnung: [
    '§ {n} Abs. {m} gilt entsprechend.',
    'Auf Grund des § {n} Abs. {m} des {law} wird verordnet:',
    '§ {n} Geltungsbereich. (1) Diese Verordnung gilt für {schools} in {land}.',
    '(2) Abweichend von Absatz 1 kann die Schulbehörde Ausnahmen zulassen.',
    'Diese Verordnung tritt am {date} in Kraft.',
    'Gleichzeitig tritt die Verordnung über {topic} vom {date} außer Kraft.',
    '§ {n} Begriffsbestimmungen. Im Sinne dieser Verordnung sind {topic} alle Maßnahmen nach § {m}.',
    'Ordnungswidrig handelt, wer vorsätzlich oder fahrlässig entgegen § {n} Abs. {m} handelt.',
    'Die Einzelheiten regelt die oberste Schulbehörde durch Verwaltungsvorschrift nach § {n}.',
    '(3) Satz 1 gilt nicht, soweit nach § {n} Abs. {m} Nr. {k} etwas anderes bestimmt ist.',
    '§ {n} Übergangsvorschrift. Für Verfahren, die vor dem {date} begonnen wurden, gilt das bisherige Recht.',
    'Die Verordnung wird hiermit ausgefertigt und ist zu verkünden.',
    'Nach Maßgabe des § {n} Abs. {m} Satz {k} entscheidet die Klassenkonferenz.',
    '§ {n} Inkrafttreten, Außerkrafttreten.',
  ],
  schulordnung: [
    'Die Schülerinnen und Schüler sind verpflichtet, regelmäßig am Unterricht teilzunehmen.',
    'Die Schülerinnen und Schüler haben die Anweisungen der Lehrkräfte zu befolgen.',
    'Die Schulordnung regelt das Zusammenleben aller Mitglieder der Schulgemeinschaft.',
    'Bei Krankheit benachrichtigen die Erziehungsberechtigten die Schule am ersten Tag des Fehlens.',
    'Während der Pausen halten sich die Schülerinnen und Schüler auf dem Schulhof auf.',
    'Das Verlassen des Schulgeländes während der Unterrichtszeit ist nicht gestattet.',
    'Mobiltelefone bleiben während des Unterrichts ausgeschaltet, sofern die Lehrkraft nichts anderes erlaubt.',
    'Jede Schülerin und jeder Schüler trägt Verantwortung für die Sauberkeit der Klassenräume.',
    'Die Hausordnung ist Bestandteil dieser Schulordnung.',
    'Die Schülerinnen und Schüler haben das Recht, in der Schülervertretung mitzuwirken.',
    'Verstöße gegen die Schulordnung können Erziehungs- und Ordnungsmaßnahmen nach sich ziehen.',
    'Der Unterricht beginnt um {hour} Uhr; die Schülerinnen und Schüler sind pünktlich im Klassenraum.',
    'Fahrräder werden ausschließlich auf den dafür vorgesehenen Plätzen abgestellt.',
    'Die Schülerinnen und Schüler der Klassen {grade} bis 10 wählen eine Klassensprecherin oder einen Klassensprecher.',
  ],
  handreichung: [
    'Hinweise für Lehrkräfte zur Umsetzung im Unterricht.',
    'Diese Handreichung bietet Lehrkräften praktische Anregungen zum Thema {topic}.',
    'Die folgenden Beispiele zeigen, wie {topic} im Fach {subject} gestaltet werden kann.',
    'Tipp: Beginnen Sie mit einer kurzen Einstiegsphase und sammeln Sie die Vorerfahrungen der Klasse.',
    'Die Materialien im Anhang können frei kopiert und an die Lerngruppe angepasst werden.',
    'Es empfiehlt sich, die Eltern frühzeitig in die Planung einzubeziehen.',
    'Checkliste für die Vorbereitung: Ziele klären, Materialien bereitstellen, Zeitrahmen festlegen.',
    'Lehrkräfte finden auf den folgenden Seiten Praxisbeispiele aus {schools}.',
    'Die Erfahrungen zeigen, dass kleine Lerngruppen besonders profitieren.',
    'Weiterführende Literatur und Fortbildungsangebote sind am Ende zusammengestellt.',
    'Bitte beachten Sie die Hinweise zur Differenzierung für leistungsstarke und leistungsschwächere Lernende.',
    'Diese Handreichung ersetzt keine rechtlichen Regelungen, sondern erläutert sie an Beispielen.',
    'Reflektieren Sie nach der Unterrichtseinheit gemeinsam mit der Klasse, was gelungen ist.',
    'Als Einstieg eignet sich ein Bild, ein kurzer Film oder eine Frage aus dem Alltag der Kinder.',
  ],
  erlass: [
    'RdErl. d. {ministry} v. {date} – {az}',
    'Bezug: RdErl. d. {ministry} v. {date}',
    'Dieser Erlass tritt am {date} in Kraft und mit Ablauf des {date2} außer Kraft.',
    'Die Schulleiterinnen und Schulleiter werden gebeten, die Lehrkräfte in geeigneter Weise zu unterrichten.',
    'Im Einvernehmen mit dem Ministerium der Finanzen wird Folgendes bestimmt:',
    'Die nachgeordneten Schulbehörden werden ersucht, die Einhaltung dieses Erlasses sicherzustellen.',
    'Der Bezugserlass wird hiermit aufgehoben.',
    'An die öffentlichen {schools} im Land {land}.',
    'Dieser Runderlass wird im Schulverwaltungsblatt veröffentlicht.',
    'Über Ausnahmen entscheidet die zuständige Schulaufsicht im Einzelfall.',
    'Berichte sind bis zum {date} auf dem Dienstweg vorzulegen.',
    'Gem. RdErl. d. {ministry} u. d. Ministeriums des Innern v. {date}.',
    'Die Regelungen dieses Erlasses gelten erstmals für das Schuljahr {year}/{year2}.',
    'Hiermit wird angeordnet, dass die Schulen die Maßnahmen zum {topic} umsetzen.',
  ],
};

/** Sentences any document type may contain. */
const SHARED = [
  'Die Schulleitung trägt die Verantwortung für die ordnungsgemäße Durchführung.',
  'Die Erziehungsberechtigten sind rechtzeitig zu informieren.',
  'Die Lehrkräfte dokumentieren die Leistungen der Schülerinnen und Schüler.',
  'Die Klassenkonferenz entscheidet über die Versetzung in die nächsthöhere Jahrgangsstufe.',
  'Bei der Leistungsbewertung sind die Vorgaben der Lehrpläne zu beachten.',
  'Der Unterricht im Fach {subject} umfasst wöchentlich {k} Stunden.',
  'Schülerinnen und Schüler mit besonderem Förderbedarf erhalten einen Nachteilsausgleich.',
  'Der Datenschutz ist bei allen Maßnahmen zu wahren.',
  'Das Zeugnis enthält Noten für alle unterrichteten Fächer.',
  'Die Teilnahme an Ganztagsangeboten ist freiwillig.',
  'Die Schulkonferenz kann ergänzende Regelungen beschließen.',
  'Grundlage ist das Schulgesetz ({law}) in der jeweils geltenden Fassung.',
  'Für {schools} gelten besondere Bestimmungen.',
  'Im Schuljahr {year}/{year2} sind die Regelungen zum {topic} anzuwenden.',
  'Die Schulaufsicht berät die Schulen bei der Umsetzung.',
  'Die Noten werden nach einer sechsstufigen Skala vergeben.',
  'In der Jahrgangsstufe {grade} finden zwei Klassenarbeiten je Halbjahr statt.',
  'Die Sprachförderung beginnt bereits vor der Einschulung.',
  'Fehlzeiten sind im Zeugnis zu vermerken.',
  'Schulfahrten müssen pädagogisch vorbereitet werden.',
];

const pick = <T>(rng: () => number, list: readonly T[]): T =>
  list[Math.floor(rng() * list.length)] as T;
const int = (rng: () => number, min: number, max: number) =>
  min + Math.floor(rng() * (max - min + 1));

function date(rng: () => number): string {
  return `${int(rng, 1, 28)}. ${pick(rng, MONTHS)} ${int(rng, 1995, 2025)}`;
}

function fill(template: string, rng: () => number, land: Bundesland, n: number): string {
  const year = int(rng, 2005, 2026);
  return template.replace(/\{(\w+)\}/g, (_, slot: string) => {
    switch (slot) {
      case 'n':
      case 'm':
        return String(int(rng, 1, 40));
      case 'k':
        return String(int(rng, 1, 6));
      case 'law':
        return SCHOOL_LAW[land];
      case 'land':
        return BUNDESLAENDER[land];
      case 'ministry':
        return MINISTRY[land];
      case 'schools':
        return pick(rng, SCHOOL_TYPES);
      case 'topic':
        return pick(rng, TOPICS);
      case 'subject':
        return pick(rng, SUBJECTS);
      case 'date':
      case 'date2':
        return date(rng);
      case 'az':
        return `${int(rng, 11, 56)}-${int(rng, 81000, 83999)}/${n}`;
      case 'hour':
        return `${int(rng, 7, 8)}.${pick(rng, ['00', '30', '45'])}`;
      case 'grade':
        return String(int(rng, 5, 9));
      case 'year':
        return String(year);
      case 'year2':
        return String((year + 1) % 100).padStart(2, '0');
      default:
        throw new Error(`unknown slot ${slot}`);
    }
  });
}

/** Swaps two neighbouring letters in a few words: the typos of real, hand-made documents. */
function typos(text: string, rng: () => number, rate: number): string {
  return text.replace(/\p{L}{4,}/gu, (word) => {
    if (rng() >= rate) return word;
    const at = int(rng, 1, word.length - 2);
    return word.slice(0, at) + word[at + 1] + word[at] + word.slice(at + 2);
  });
}

function title(rng: () => number, type: DocType, land: Bundesland, topic: string): string {
  switch (type) {
    case 'verordnung':
      return `Verordnung über ${topic} (${land})`;
    case 'schulordnung':
      return `Schulordnung für ${pick(rng, SCHOOL_TYPES)} in ${BUNDESLAENDER[land]}`;
    case 'handreichung':
      return `Handreichung ${topic}`;
    case 'erlass':
      return `Erlass zu ${topic}`;
  }
}

function body(rng: () => number, type: DocType, land: Bundesland, n: number): string {
  // Mostly short documents, a few long ones (up to ~60 sentences: several chunks).
  const sentences = 3 + Math.floor(rng() ** 2 * 58);
  const others = DOC_TYPES.filter((t) => t !== type);
  const parts: string[] = [];
  for (let i = 0; i < sentences; i += 1) {
    // Most documents open in their type's voice; after that, types mix.
    const r = i === 0 && rng() < 0.8 ? 0 : rng();
    const pool = r < 0.4 ? TYPICAL[type] : r < 0.75 ? SHARED : TYPICAL[pick(rng, others)];
    parts.push(fill(pick(rng, pool), rng, land, n));
  }
  // A file number makes every text unique, so generated corpora never collide on content.
  parts.push(`(Az. ${MINISTRY[land]}-${n})`);
  const text = parts.reduce(
    (all, sentence, i) => all + (i === 0 ? '' : rng() < 0.15 ? '\n\n' : ' ') + sentence,
    '',
  );
  return typos(text, rng, 0.02);
}

/**
 * `count` documents; document i is of state i mod 16 and type ⌊i/16⌋ mod 4, so 64 or more cover
 * every combination. About one in ten is marked as not to be trained on.
 */
export function* syntheticDocuments(count: number, seed = 1): Generator<SyntheticDocument> {
  const rng = mulberry32(seed);
  for (let i = 0; i < count; i += 1) {
    const bundesland = BUNDESLAND_CODES[i % BUNDESLAND_CODES.length] as Bundesland;
    const docType = DOC_TYPES[
      Math.floor(i / BUNDESLAND_CODES.length) % DOC_TYPES.length
    ] as DocType;
    const topic = pick(rng, TOPICS);
    yield {
      title: title(rng, docType, bundesland, topic),
      text: body(rng, docType, bundesland, i + 1),
      bundesland,
      docType,
      trainingAllowed: rng() >= 0.1,
      source: `synthetic demo document #${i + 1} (seed ${seed}); not a real regulation`,
    };
  }
}
