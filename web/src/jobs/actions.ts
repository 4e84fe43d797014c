/**
 * The contract's state machine, as far as a person can act on it: which buttons a job's status
 * allows. A test checks this against the server's transition table.
 */
export type JobStatus =
  | 'QUEUED'
  | 'PREPARING'
  | 'TRAINING'
  | 'VALIDATING'
  | 'COMPLETED'
  | 'FAILED'
  | 'PAUSED'
  | 'CANCELLED';

export type JobAction = 'pause' | 'resume' | 'cancel' | 'delete';

const ACTIVE: readonly JobStatus[] = ['QUEUED', 'PREPARING', 'TRAINING', 'VALIDATING'];
const RUNNING: readonly JobStatus[] = ['PREPARING', 'TRAINING', 'VALIDATING'];
export const TERMINAL: readonly JobStatus[] = ['COMPLETED', 'FAILED', 'CANCELLED'];

export function allows(status: JobStatus, action: JobAction): boolean {
  switch (action) {
    case 'pause':
      return ACTIVE.includes(status);
    case 'resume':
      return status === 'PAUSED';
    case 'cancel':
      return ACTIVE.includes(status) || status === 'PAUSED';
    case 'delete':
      // a running job holds a runner slot: the API refuses with CONFLICT
      return !RUNNING.includes(status);
  }
}

export const isTerminal = (status: JobStatus) => TERMINAL.includes(status);
