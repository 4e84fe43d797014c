import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/**
 * How much nicer than the process the trainer's thread runs. The trainer is CPU-bound for the
 * whole run while the API thread (which also runs the embedded database) answers requests on the
 * same cores: with Linux's weights at 10 steps of niceness, the API thread gets about nine tenths
 * of a core they contend for, and the trainer everything the API leaves idle.
 */
export const TRAINER_NICENESS = 10;
const LOWEST = 19;

/**
 * The calling thread's kernel ID, or null where threads have no /proc entry (not Linux). Linux
 * schedules threads one by one, and `setpriority` on a thread ID changes that thread alone.
 */
function currentThreadId(): number | null {
  try {
    const id = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
    return Number.isInteger(id) ? id : null;
  } catch {
    return null;
  }
}

/**
 * Lowers the calling thread's scheduling priority by `TRAINER_NICENESS` (lowering needs no
 * privilege). Returns the thread's new niceness, or null where a thread's own priority cannot
 * be set; then it keeps the process's.
 */
export function lowerThreadPriority(niceness = TRAINER_NICENESS): number | null {
  const thread = currentThreadId();
  if (thread === null) return null;
  try {
    const lowered = Math.min(LOWEST, getPriority(thread) + niceness);
    setPriority(thread, lowered);
    return getPriority(thread);
  } catch {
    return null;
  }
}
