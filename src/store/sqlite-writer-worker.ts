/**
 * The thread of sqlite-writer.ts: one connection to the store's SQLite file, opened as the main thread's
 * is, writing each batch it is sent in one transaction (evidence-db.ts batchInsertion) and answering with
 * whether each record was new, or the error that rolled the batch back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { batchInsertion, openStoreSqlite } from './evidence-db.js';
import type { WriterData, WriterReply, WriterRequest } from './sqlite-writer.js';

const port = parentPort!;
const reply = (m: WriterReply) => port.postMessage(m);

let db: ReturnType<typeof openStoreSqlite>;
try {
  db = openStoreSqlite((workerData as WriterData).file);
} catch (e) {
  reply({ error: (e as Error).message });
  process.exit(1);
}
port.on('message', (m: WriterRequest) => {
  if ('close' in m) {
    void db.close().then(() => port.close());
    return;
  }
  try {
    reply({ id: m.id, created: db.transactionSync(batchInsertion(m.records)) });
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    reply({ id: m.id, error: (e as Error).message, ...(typeof code === 'string' ? { code } : {}) });
  }
});
reply({ ready: true });
