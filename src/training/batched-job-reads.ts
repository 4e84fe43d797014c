import { eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { isUuid } from '../db/ids.ts';
import { type TrainingJobRow, trainingJobs } from '../db/schema.ts';

type Read = Promise<TrainingJobRow | undefined>;
type Reads = { inFlight: Read; next: Read | null };

const readsByDb = new WeakMap<Db, Map<string, Reads>>();
const queries = new WeakMap<Db, ReturnType<typeof prepare>>();

const prepare = (db: Db) =>
  db
    .select()
    .from(trainingJobs)
    .where(eq(trainingJobs.id, sql.placeholder('id')))
    .prepare('watched_job');

/** getJob of jobs.ts, with its SQL built once per database rather than once per read. */
async function readJob(db: Db, jobId: string): Promise<TrainingJobRow | undefined> {
  if (!isUuid(jobId)) return undefined;
  let query = queries.get(db);
  if (!query) {
    query = prepare(db);
    queries.set(db, query);
  }
  const [row] = await query.execute({ id: jobId });
  return row;
}

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
  if (!current) return start(reads, jobId, readJob(db, jobId));
  current.next ??= current.inFlight.then(
    () => start(reads, jobId, readJob(db, jobId)),
    () => start(reads, jobId, readJob(db, jobId)),
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
