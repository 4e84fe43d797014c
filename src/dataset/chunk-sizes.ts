/**
 * Chunking: training examples are at most CHUNK_WORDS words; consecutive chunks of a document
 * share CHUNK_OVERLAP words so that no sentence is only ever seen cut at a boundary.
 */
export const CHUNK_WORDS = 200;
export const CHUNK_OVERLAP = 20;
