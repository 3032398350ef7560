import type { FileHashResult } from './hash-file.js';

/** A message to a hashing thread. */
export interface HashBatch {
  id: number;
  paths: string[];
  algorithms: string[];
  normalizeLineEndings: boolean;
  /** Files bigger than this (bytes) are answered `{ defer: true }` unhashed; 0: hash everything. */
  deferAbove: number;
}

/** Its answer: one result per path, in the order given. */
export interface HashBatchResult {
  id: number;
  results: FileHashResult[];
}
