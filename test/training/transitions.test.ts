import { describe, expect, test } from 'vitest';
import {
  allowedEdges,
  canTransition,
  isTerminal,
  TRANSITIONS,
  type TransitionAction,
} from '../../src/training/transitions.ts';
import { TRAINING_STATUSES, type TrainingStatus } from '../../src/vocabulary/training.ts';

// The state machine of CONTRACT.md, written out edge by edge.
const CONTRACT_EDGES = [
  'QUEUED->PREPARING',
  'PREPARING->TRAINING',
  'TRAINING->VALIDATING',
  'VALIDATING->COMPLETED',
  ...['QUEUED', 'PREPARING', 'TRAINING', 'VALIDATING'].flatMap((s) => [
    `${s}->PAUSED`,
    `${s}->CANCELLED`,
    `${s}->FAILED`,
  ]),
  'PAUSED->QUEUED',
  'PAUSED->CANCELLED',
];

describe('transition table', () => {
  test('allows exactly the edges of the contract', () => {
    expect([...allowedEdges()].sort()).toEqual([...CONTRACT_EDGES].sort());
  });

  test('terminal statuses allow no action', () => {
    for (const status of ['COMPLETED', 'FAILED', 'CANCELLED'] as TrainingStatus[]) {
      expect(isTerminal(status)).toBe(true);
      for (const action of Object.keys(TRANSITIONS) as TransitionAction[]) {
        expect(canTransition(status, action)).toBe(false);
      }
    }
  });

  test('user actions match the mutations', () => {
    const from = (action: TransitionAction) =>
      TRAINING_STATUSES.filter((s) => canTransition(s, action));
    expect(from('pause')).toEqual(['QUEUED', 'PREPARING', 'TRAINING', 'VALIDATING']);
    expect(from('resume')).toEqual(['PAUSED']);
    expect(from('cancel')).toEqual(['QUEUED', 'PREPARING', 'TRAINING', 'VALIDATING', 'PAUSED']);
  });
});
