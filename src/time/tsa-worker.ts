/**
 * A worker thread of a TsaWorkerPool (src/time/worker-pool.ts): its own TimestampAuthority, answering the
 * requests the pool posts with genTime as the pool's clock gave it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { X509Certificate } from '../crypto/x509/x509.js';
import { TimestampAuthority } from './authority.js';
import type { WorkerData, WorkerReply, WorkerRequest } from './worker-pool.js';

const data = workerData as WorkerData;
let at = 0;
const authority = new TimestampAuthority({
  signer: { privateKey: data.privateKey, chain: data.chain.map((der) => new X509Certificate(der)) },
  policy: data.policy,
  clock: { now: () => at },
  ...(data.accuracy !== undefined ? { accuracy: data.accuracy } : {}),
  onError: (e) => parentPort!.postMessage({ error: e instanceof Error ? (e.stack ?? e.message) : String(e) } satisfies WorkerReply),
});
parentPort!.on('message', (m: WorkerRequest) => {
  at = m.at;
  // a small Buffer is a slice of the thread's shared pool, which cannot move to another thread: the
  // answer is copied into a buffer of its own (a kilobyte or two), and that one moved
  const body = new Uint8Array(authority.respond(m.request));
  parentPort!.postMessage({ id: m.id, body } satisfies WorkerReply, [body.buffer]);
});
parentPort!.postMessage({ ready: true } satisfies WorkerReply);
