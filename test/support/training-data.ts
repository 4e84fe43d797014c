import { importStream } from '../../src/dataset/import.ts';
import type { Db } from '../../src/db/client.ts';
import { BUNDESLAND_CODES } from '../../src/vocabulary/bundeslaender.ts';
import { corpusRecords, toJsonl } from '../training/corpus.ts';

/**
 * A small corpus in every state (one document of each type), so that jobs on any states can be
 * created: createTrainingJob refuses states without training-allowed documents.
 */
export async function seedTrainingData(db: Db): Promise<void> {
  const bytes = new TextEncoder().encode(
    toJsonl(corpusRecords({ states: [...BUNDESLAND_CODES], perTypeAndState: 1, seed: 99 })),
  );
  async function* source() {
    yield bytes;
  }
  const result = await importStream(db, source());
  if (result.rejected > 0) throw new Error(`seed corpus rejected: ${result.errors.join('; ')}`);
}
