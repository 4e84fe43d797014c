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
  /** Announces each stored batch that added documents, as it commits (an import may be long). */
  const announcing = (onProgress?: (progress: ImportProgress) => void): ImportOptions => {
    let announced = 0;
    return {
      onProgress: (progress) => {
        if (progress.added > announced) {
          events.publish('documents', { added: progress.added - announced });
          announced = progress.added;
        }
        onProgress?.(progress);
      },
    };
  };

  return {
    importStream: (source: ByteSource, onProgress?: (progress: ImportProgress) => void) =>
      importStream(db, source, announcing(onProgress)),
    /** The demo corpus into an empty database (see demo.ts). */
    loadDemoCorpus: () => loadDemoCorpus(db, announcing()),
    stats: (bundeslaender?: readonly string[] | null) => datasetStats(db, bundeslaender),
    listDocuments: (filter: DocumentFilter) => listDocuments(db, filter),
    getDocumentsByIds: (ids: readonly string[]) => getDocumentsByIds(db, ids),
  };
}

export type DatasetService = ReturnType<typeof createDatasetService>;
