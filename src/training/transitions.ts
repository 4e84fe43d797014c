import type { TrainingStatus } from '../vocabulary/training.ts';

/**
 * The job state machine: every status change of a job is one of these actions, and nothing else
 * changes `status`. The database applies them as a conditional UPDATE (see jobs.ts).
 */
export const TRANSITIONS = {
  // user actions
  pause: { from: ['QUEUED', 'PREPARING', 'TRAINING', 'VALIDATING'], to: 'PAUSED' },
  resume: { from: ['PAUSED'], to: 'QUEUED' },
  cancel: { from: ['QUEUED', 'PREPARING', 'TRAINING', 'VALIDATING', 'PAUSED'], to: 'CANCELLED' },
  // runner actions
  claim: { from: ['QUEUED'], to: 'PREPARING' },
  startTraining: { from: ['PREPARING'], to: 'TRAINING' },
  startValidation: { from: ['TRAINING'], to: 'VALIDATING' },
  complete: { from: ['VALIDATING'], to: 'COMPLETED' },
  fail: { from: ['QUEUED', 'PREPARING', 'TRAINING', 'VALIDATING'], to: 'FAILED' },
} as const satisfies Record<string, { from: readonly TrainingStatus[]; to: TrainingStatus }>;

export type TransitionAction = keyof typeof TRANSITIONS;

export const TERMINAL_STATUSES: readonly TrainingStatus[] = ['COMPLETED', 'FAILED', 'CANCELLED'];

/** A job in these statuses holds a runner slot; deleting it would pull data from under the runner. */
export const RUNNING_STATUSES: readonly TrainingStatus[] = ['PREPARING', 'TRAINING', 'VALIDATING'];

export function canTransition(status: TrainingStatus, action: TransitionAction): boolean {
  return (TRANSITIONS[action].from as readonly TrainingStatus[]).includes(status);
}

export function isTerminal(status: TrainingStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** Every (from, to) pair the table allows, for checking observed status sequences. */
export function allowedEdges(): Set<string> {
  const edges = new Set<string>();
  for (const { from, to } of Object.values(TRANSITIONS)) {
    for (const f of from) edges.add(`${f}->${to}`);
  }
  return edges;
}
