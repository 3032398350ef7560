import { Worker } from 'node:worker_threads';
import { EvidentError } from '../../errors.js';
import type { FileHashResult } from './hash-file.js';
import type { HashBatch, HashBatchResult } from './hash-protocol.js';

interface Job {
  batch: HashBatch;
  resolve: (results: FileHashResult[]) => void;
  reject: (e: unknown) => void;
}

interface Slot {
  worker: Worker;
  inFlight: Map<number, Job>;
}

// Two batches per thread: while it hashes one, the next is already in its inbox.
const IN_FLIGHT_PER_WORKER = 2;

// Compiled, the worker is hash-worker.js beside this file. Run from sources under tsx it is a .ts file,
// and Node 20 does not apply `--import tsx` to a worker's entry module, so a small bootstrap registers
// tsx in the thread first.
const FROM_SOURCES = import.meta.url.endsWith('.ts');
const WORKER_URL = new URL(`./hash-worker${FROM_SOURCES ? '.ts' : '.js'}`, import.meta.url);

function startWorker(): Worker {
  if (!FROM_SOURCES) return new Worker(WORKER_URL);
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(WORKER_URL.href)}); })`;
  return new Worker(bootstrap, { eval: true, execArgv: [] });
}

/**
 * A pool of hashing threads, started on first use and kept for reuse. Idle threads do not keep the
 * process alive (unref), so a CLI run exits without closing the pool.
 */
export class HashPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;

  constructor(readonly size: number) {}

  hash(paths: string[], algorithms: string[], normalizeLineEndings: boolean, deferAbove = 0): Promise<FileHashResult[]> {
    return new Promise((resolve, reject) => {
      const batch: HashBatch = { id: this.nextId++, paths, algorithms, normalizeLineEndings, deferAbove };
      this.queue.push({ batch, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const slot = this.freeSlot();
      if (slot === undefined) return;
      const job = this.queue.shift()!;
      slot.inFlight.set(job.batch.id, job);
      slot.worker.ref();
      slot.worker.postMessage(job.batch);
    }
  }

  private freeSlot(): Slot | undefined {
    let best: Slot | undefined;
    for (const s of this.slots) if (best === undefined || s.inFlight.size < best.inFlight.size) best = s;
    if (best !== undefined && best.inFlight.size === 0) return best;
    if (this.slots.length < this.size) return this.spawn();
    return best !== undefined && best.inFlight.size < IN_FLIGHT_PER_WORKER ? best : undefined;
  }

  private spawn(): Slot {
    const worker = startWorker();
    const slot: Slot = { worker, inFlight: new Map() };
    worker.on('message', (msg: HashBatchResult) => {
      const job = slot.inFlight.get(msg.id);
      slot.inFlight.delete(msg.id);
      if (slot.inFlight.size === 0) worker.unref();
      job?.resolve(msg.results);
      this.dispatch();
    });
    const fail = (e: unknown): void => this.fail(slot, e);
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (slot.inFlight.size > 0) fail(new Error(`hashing thread exited with code ${code}`));
    });
    this.slots.push(slot);
    return slot;
  }

  private fail(slot: Slot, cause: unknown): void {
    // Its jobs fail; the queue goes on with a fresh thread, so one crash does not poison the pool.
    const error = new EvidentError('INTERNAL', `hashing thread failed: ${String(cause)}`, { cause });
    const jobs = [...slot.inFlight.values()];
    slot.inFlight.clear();
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    void slot.worker.terminate();
    for (const job of jobs) job.reject(error);
    this.dispatch();
  }
}

const pools = new Map<number, HashPool>();

/** The process-wide pool of `size` threads (materials and products of one run share it). */
export function sharedHashPool(size: number): HashPool {
  let pool = pools.get(size);
  if (pool === undefined) {
    pool = new HashPool(size);
    pools.set(size, pool);
  }
  return pool;
}
