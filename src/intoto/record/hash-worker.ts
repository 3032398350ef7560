/**
 * A hashing thread: receives batches of paths, answers with one result per path, in order. One buffer
 * per thread, reused for every file.
 */
import { parentPort } from 'node:worker_threads';
import { CHUNK_SIZE, hashFileSync } from './hash-file.js';
import type { HashBatch, HashBatchResult } from './hash-protocol.js';

const buffer = Buffer.allocUnsafe(CHUNK_SIZE);
const port = parentPort;
if (port === null) throw new Error('hash-worker: must run as a worker thread');

port.on('message', (batch: HashBatch) => {
  const results = batch.paths.map((p) => hashFileSync(p, batch.algorithms, batch.normalizeLineEndings, buffer, batch.deferAbove));
  const reply: HashBatchResult = { id: batch.id, results };
  port.postMessage(reply);
});
