export const TRAINING_STATUSES = [
  'QUEUED',
  'PREPARING',
  'TRAINING',
  'VALIDATING',
  'COMPLETED',
  'FAILED',
  'PAUSED',
  'CANCELLED',
] as const;
export type TrainingStatus = (typeof TRAINING_STATUSES)[number];

export const MODEL_TYPES = ['ZEUGNIS', 'KLAUSUR', 'GENERAL'] as const;
export type ModelType = (typeof MODEL_TYPES)[number];

/** The 16 German states, by their official two-letter codes. */
export const BUNDESLAENDER = {
  BW: 'Baden-Württemberg',
  BY: 'Bayern',
  BE: 'Berlin',
  BB: 'Brandenburg',
  HB: 'Bremen',
  HH: 'Hamburg',
  HE: 'Hessen',
  MV: 'Mecklenburg-Vorpommern',
  NI: 'Niedersachsen',
  NW: 'Nordrhein-Westfalen',
  RP: 'Rheinland-Pfalz',
  SL: 'Saarland',
  SN: 'Sachsen',
  ST: 'Sachsen-Anhalt',
  SH: 'Schleswig-Holstein',
  TH: 'Thüringen',
} as const;
export type Bundesland = keyof typeof BUNDESLAENDER;
export const BUNDESLAND_CODES = Object.keys(BUNDESLAENDER) as Bundesland[];
