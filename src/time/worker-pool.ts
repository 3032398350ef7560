import type { KeyObject } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { systemClock, type Clock } from '../util/clock.js';
import { TimestampAuthority, type TimestampAuthorityOptions } from './authority.js';
import { rejectionResponse } from './response.js';

/** What answers DER TimeStampReqs with DER TimeStampResps: a TimestampAuthority on this thread, or a pool of them. */
export interface TimestampResponder {
  respond(request: Uint8Array): Buffer | Promise<Buffer>;
}

/** What a worker is given: its signer, as can cross to another thread (a KeyObject does), and the authority's options. */
export interface WorkerData {
  privateKey: KeyObject;
  chain: Buffer[];
  policy: string;
  accuracy?: TimestampAuthorityOptions['accuracy'];
}

export interface WorkerRequest {
  id: number;
  request: Uint8Array;
  /** genTime, from the pool's clock. */
  at: number;
}

export type WorkerReply = { ready: true } | { id: number; body: Uint8Array } | { error: string };

interface PoolWorker {
  worker: Worker;
  pending: Map<number, (reply: Buffer) => void>;
}

/**
 * Time-stamping authorities on worker threads, one per thread, for a TSA that must use more than one
 * core: making a token is CPU work (ASN.1 encoding most of it, then a signature), which on one thread
 * caps a TSA at about a thousand tokens a second on this project's 2-core machines (bench/tsa.ts).
 * genTime is read from the pool's clock when a request is handed to a worker. A worker that dies
 * fails the requests it held with systemFailure and is replaced.
 *
 * @example
 * const pool = await TsaWorkerPool.start({ signer, policy }, 2);
 * const server = await startTsaServer({ authority: pool });
 */
export class TsaWorkerPool implements TimestampResponder {
  private readonly workers: PoolWorker[] = [];
  private nextId = 0;
  private closing = false;

  private constructor(
    private readonly data: WorkerData,
    private readonly clock: Clock,
    private readonly onError: ((error: unknown) => void) | undefined,
  ) {}

  /**
   * Starts `threads` workers, each with an authority of `options` (checked here first).
   *
   * @throws EvidentError BAD_INPUT when the signer cannot be a TSA's, as `new TimestampAuthority` does
   */
  static async start(options: TimestampAuthorityOptions, threads: number): Promise<TsaWorkerPool> {
    const authority = new TimestampAuthority(options);
    const data: WorkerData = {
      privateKey: options.signer.privateKey,
      chain: options.signer.chain.map((c) => Buffer.from(c.rawData)),
      policy: authority.policy,
      ...(options.accuracy !== undefined ? { accuracy: options.accuracy } : {}),
    };
    const pool = new TsaWorkerPool(data, options.clock ?? systemClock, options.onError);
    try {
      await Promise.all(Array.from({ length: Math.max(1, threads) }, () => pool.spawn()));
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  respond(request: Uint8Array): Promise<Buffer> {
    // the worker with the fewest requests in hand
    let target = this.workers[0];
    for (const w of this.workers) if (target === undefined || w.pending.size < target.pending.size) target = w;
    if (target === undefined || this.closing) return Promise.resolve(rejectionResponse('systemFailure', 'the TSA is shutting down'));
    const id = this.nextId++;
    return new Promise<Buffer>((resolve) => {
      target.pending.set(id, resolve);
      target.worker.postMessage({ id, request, at: this.clock.now() } satisfies WorkerRequest);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }

  private spawn(): Promise<void> {
    const worker = workerFor(this.data);
    const entry: PoolWorker = { worker, pending: new Map() };
    this.workers.push(entry);
    return new Promise<void>((ready, failed) => {
      let started = false;
      worker.on('message', (m: WorkerReply) => {
        if ('ready' in m) {
          started = true;
          ready();
        } else if ('error' in m) this.onError?.(new Error(m.error));
        else {
          const done = entry.pending.get(m.id);
          entry.pending.delete(m.id);
          done?.(Buffer.from(m.body.buffer, m.body.byteOffset, m.body.byteLength));
        }
      });
      worker.on('error', (e) => {
        if (!started) failed(e);
        else this.onError?.(e);
      });
      worker.on('exit', () => {
        this.workers.splice(this.workers.indexOf(entry), 1);
        for (const done of entry.pending.values()) done(rejectionResponse('systemFailure', 'the TSA could not make a token'));
        if (started && !this.closing) void this.spawn().catch((e: unknown) => this.onError?.(e));
      });
    });
  }
}

/**
 * A worker running tsa-worker: the compiled .js beside this module, or, when this module is the
 * TypeScript source (tests and benchmarks run it through tsx), the .ts with tsx registered in the
 * worker first, as a worker does not inherit the loader hooks of its parent.
 */
function workerFor(data: WorkerData): Worker {
  const self = import.meta.url;
  if (!self.endsWith('.ts')) return new Worker(new URL('./tsa-worker.js', self), { workerData: data });
  const script = JSON.stringify(new URL('./tsa-worker.ts', self).href);
  // resolved here, not in the worker, whose eval'd code resolves from the working directory
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  return new Worker(`import(${tsx}).then((tsx) => { tsx.register(); return import(${script}); })`, { eval: true, workerData: data });
}
