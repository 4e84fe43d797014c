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

/**
 * When a completed version becomes active: ALWAYS (the prototype's rule), IF_BETTER (it beats
 * the baseline and the active version on its own validation split) or MANUAL (never by itself).
 */
export const ACTIVATION_POLICIES = ['ALWAYS', 'IF_BETTER', 'MANUAL'] as const;
export type ActivationPolicy = (typeof ACTIVATION_POLICIES)[number];

/** Why a version became active, as the activation history records it. */
export const ACTIVATION_REASONS = ['AUTO_ALWAYS', 'AUTO_IF_BETTER', 'MANUAL', 'ROLLBACK'] as const;
export type ActivationReason = (typeof ACTIVATION_REASONS)[number];

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
