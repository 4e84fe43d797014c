import { describe, expect, test } from 'vitest';
import { canTransition, RUNNING_STATUSES } from '../../src/training/transitions.ts';
import { TRAINING_STATUSES } from '../../src/vocabulary/training.ts';
import { allows, isTerminal } from '../../web/src/jobs/actions.ts';

// The dashboard enables a job's buttons by its own copy of the contract's state machine; it must
// agree with the server's table, or a button would offer what the API refuses (or hide what it allows).
describe("the dashboard's job buttons", () => {
  test.each(TRAINING_STATUSES)('agree with the server for %s', (status) => {
    expect(allows(status, 'pause')).toBe(canTransition(status, 'pause'));
    expect(allows(status, 'resume')).toBe(canTransition(status, 'resume'));
    expect(allows(status, 'cancel')).toBe(canTransition(status, 'cancel'));
    expect(allows(status, 'delete')).toBe(!RUNNING_STATUSES.includes(status));
    expect(isTerminal(status)).toBe(['COMPLETED', 'FAILED', 'CANCELLED'].includes(status));
  });
});
