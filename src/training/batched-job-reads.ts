import type { Db } from '../db/client.ts';
import type { TrainingJobRow } from '../db/schema.ts';
import { getJob } from './jobs.ts';

type Read = Promise<TrainingJobRow | undefined>;
type Reads = { inFlight: Read; next: Read | null };

const readsByDb = new WeakMap<Db, Map<string, Reads>>();

/**
 * The job's row for a watcher that listens already. Watchers that ask while a read of the job
 * is in flight share the next one, sent when it returns: a crowd subscribing at once costs a
 * few queries and gets one row object (so its first updates are executed once too), not one
 * query and row each. Every watcher gets a read sent after it asked, so no change falls
 * between its subscription and its read.
 */
export function readWatchedJob(db: Db, jobId: string): Read {
  let reads = readsByDb.get(db);
  if (!reads) {
    reads = new Map();
    readsByDb.set(db, reads);
  }
  const current = reads.get(jobId);
  if (!current) return start(reads, jobId, getJob(db, jobId));
  current.next ??= current.inFlight.then(
    () => start(reads, jobId, getJob(db, jobId)),
    () => start(reads, jobId, getJob(db, jobId)),
  );
  return current.next;
}

function start(reads: Map<string, Reads>, jobId: string, read: Read): Read {
  const entry: Reads = { inFlight: read, next: null };
  reads.set(jobId, entry);
  const settled = () => {
    if (reads.get(jobId) === entry && !entry.next) reads.delete(jobId);
  };
  read.then(settled, settled);
  return read;
}
