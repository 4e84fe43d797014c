import { writeFileSync } from 'node:fs';
import { DEMO_CORPUS_FILE } from '../src/dataset/demo.ts';
import { DEMO_CORPUS_SIZE, syntheticDocuments } from './synthetic-corpus.ts';

/** Regenerates demo/documents.jsonl (deterministic: the same file every time). */
const lines = [...syntheticDocuments(DEMO_CORPUS_SIZE)].map((doc) => JSON.stringify(doc));
writeFileSync(DEMO_CORPUS_FILE, `${lines.join('\n')}\n`);
console.log(`wrote ${lines.length} synthetic documents to ${DEMO_CORPUS_FILE}`);
