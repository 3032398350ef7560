import { Worker } from 'node:worker_threads';
import { EvidentError } from '../errors.js';
import type { EvidenceRecord } from './evidence-db.js';

/** What the writer thread is started with. */
export interface WriterData {
  readonly file: string;
}

export type WriterRequest = { readonly id: number; readonly records: readonly EvidenceRecord[] } | { readonly close: true };
export type WriterReply =
  | { readonly ready: true }
  | { readonly id: number; readonly created: boolean[] }
  | { readonly id?: number; readonly error: string; readonly code?: string };

/**
 * The SQLite store's writes, on a thread of their own (sqlite-writer-worker.ts) with its own connection to
 * the file. better-sqlite3 is synchronous: a commit run on the main thread would hold the event loop through
 * its WAL writes and sync, most of what an upload costs, and no request would be read or answered meanwhile.
 * Here the main thread goes on reading requests while a batch commits, and group commit
 * (sql/group-commit.ts) gathers them into the next batch. Reads stay on the main thread's connection: in
 * WAL mode a read sees every commit the writer has returned from. One batch is sent at a time.
 */
export class SqliteEvidenceWriter {
  private readonly pending = new Map<number, { resolve(created: boolean[]): void; reject(e: Error): void }>();
  private nextId = 0;
  private stopped: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: WriterReply) => {
      if (!('id' in m) || m.id === undefined) return;
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if ('created' in m) p?.resolve(m.created);
      else p?.reject(Object.assign(new Error(m.error), { code: m.code }));
    });
    worker.on('error', (e) =>
      this.fail(new EvidentError('ENVIRONMENT', `store: the SQLite writer thread failed: ${e.message}`, { cause: e })),
    );
    worker.on('exit', (code) => this.fail(new EvidentError('ENVIRONMENT', `store: the SQLite writer thread stopped (exit code ${code})`)));
  }

  /**
   * A writer on `file`, which the caller has opened (and so migrated) already.
   *
   * @throws EvidentError ENVIRONMENT when the thread cannot open the file
   */
  static async start(file: string): Promise<SqliteEvidenceWriter> {
    const worker = workerFor({ file });
    let failed: (e: Error) => void = () => undefined;
    const exited = (code: number) => failed(new Error(`exited (${code})`));
    try {
      await new Promise<void>((resolve, reject) => {
        failed = reject;
        const ready = (m: WriterReply) => ('ready' in m ? resolve() : reject(new Error('error' in m ? m.error : 'no ready')));
        worker.once('message', ready).once('error', failed).once('exit', exited);
      });
    } catch (e) {
      await worker.terminate();
      throw new EvidentError('ENVIRONMENT', `store: the SQLite writer thread did not start: ${(e as Error).message}`, { cause: e });
    }
    // only these: a Worker has listeners of its own
    worker.off('error', failed).off('exit', exited);
    return new SqliteEvidenceWriter(worker);
  }

  /** Writes the records in one transaction; whether each was new. */
  write(records: readonly EvidenceRecord[]): Promise<boolean[]> {
    if (this.stopped !== undefined) return Promise.reject(this.stopped);
    const id = this.nextId++;
    return new Promise<boolean[]>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // a body may be a view of a larger pooled buffer, all of which would be copied to the thread: its own bytes only
      const request: WriterRequest = { id, records: records.map((r) => ({ ...r, body: new Uint8Array(r.body) })) };
      this.worker.postMessage(request);
    });
  }

  /** Closes the thread's connection once the writes sent have been answered. */
  async close(): Promise<void> {
    if (this.stopped !== undefined) return;
    this.stopped = new EvidentError('ENVIRONMENT', 'store: the SQLite writer is closed');
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.worker.postMessage({ close: true } satisfies WriterRequest);
    await exited;
  }

  private fail(e: Error): void {
    this.stopped ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}

/**
 * A worker running sqlite-writer-worker: the compiled .js beside this module, or, when this module is the
 * TypeScript source (tests and benchmarks run it through tsx), the .ts with tsx registered in the worker
 * first, as a worker does not inherit the loader hooks of its parent (as time/worker-pool.ts does).
 */
function workerFor(data: WriterData): Worker {
  const self = import.meta.url;
  if (!self.endsWith('.ts')) return new Worker(new URL('./sqlite-writer-worker.js', self), { workerData: data });
  const script = JSON.stringify(new URL('./sqlite-writer-worker.ts', self).href);
  // resolved here, not in the worker, whose eval'd code resolves from the working directory
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  return new Worker(`import(${tsx}).then((tsx) => { tsx.register(); return import(${script}); })`, { eval: true, workerData: data });
}
