import type { Db } from '../db/client.ts';
import type { AppEvents } from '../events/topics.ts';
import { loadDemoCorpus } from './demo.ts';
import { type DocumentFilter, getDocumentsByIds, listDocuments } from './documents.ts';
import { type ImportOptions, type ImportProgress, importStream } from './import.ts';
import type { ByteSource } from './lines.ts';
import { datasetStats } from './stats.ts';

/**
 * The dataset as the API uses it: every write goes through here so that it is announced on the
 * event bus (caches and other processes listen there).
 */
export function createDatasetService(db: Db, events: AppEvents) {
  /** Rows read by every import since the process started, and the imports running now. */
  const counts = { rows: 0 };
  const running = new Set<{ started: number; rows: number }>();

  /**
   * Runs an import that announces each stored batch that added documents, as it commits (an
   * import may be long), and counts its rows.
   */
  const tracked = async <T>(
    run: (options: ImportOptions) => Promise<T>,
    onProgress?: (progress: ImportProgress) => void,
  ): Promise<T> => {
    const current = { started: performance.now(), rows: 0 };
    running.add(current);
    let announced = 0;
    try {
      return await run({
        onProgress: (progress) => {
          counts.rows += progress.lines - current.rows;
          current.rows = progress.lines;
          if (progress.added > announced) {
            events.publish('documents', { added: progress.added - announced });
            announced = progress.added;
          }
          onProgress?.(progress);
        },
      });
    } finally {
      running.delete(current);
    }
  };

  return {
    importStream: (source: ByteSource, onProgress?: (progress: ImportProgress) => void) =>
      tracked((options) => importStream(db, source, options), onProgress),
    /** The demo corpus into an empty database (see demo.ts). */
    loadDemoCorpus: () => tracked((options) => loadDemoCorpus(db, options)),
    stats: (bundeslaender?: readonly string[] | null) => datasetStats(db, bundeslaender),
    listDocuments: (filter: DocumentFilter) => listDocuments(db, filter),
    getDocumentsByIds: (ids: readonly string[]) => getDocumentsByIds(db, ids),
    /** Rows imported since the start, and the rows per second of the imports running now. */
    importActivity: () => ({
      rows: counts.rows,
      rowsPerSecond: [...running].reduce(
        (sum, run) => sum + run.rows / Math.max((performance.now() - run.started) / 1000, 1e-3),
        0,
      ),
    }),
  };
}

export type DatasetService = ReturnType<typeof createDatasetService>;
