import { availableParallelism } from 'node:os';
import { stat } from 'node:fs/promises';
import type { FileHashResult } from './hash-file.js';
import { hashFileAsync } from './hash-file-async.js';
import { sharedHashPool } from './hash-pool.js';
import type { HashPool } from './hash-pool.js';

// Files per message to a hashing thread: enough that messaging costs little next to open+read+close.
const BATCH_FILES = 128;
// A walk that ends with no more than this many files, and this few bytes, is hashed in this thread:
// starting a hashing thread costs ~50-100 ms of CPU, more than hashing that much here. Threads start
// once the walk has found more files than this.
const INLINE_MAX_FILES = 512;
const INLINE_MAX_BYTES = 64 * 1024 * 1024;
const PROGRESS_INTERVAL_MS = 100;
// A file bigger than this met in a batch is sent back and hashed as a job of its own: batches are cut by
// count, and ten big files in one batch would keep one thread busy while the others idle.
const DEFER_ABOVE_BYTES = 4 * 1024 * 1024;

export interface DispatchOptions {
  algorithms: string[];
  normalizeLineEndings: boolean;
  concurrency: number | undefined;
  hashIn: 'workers' | 'main';
  onProgress: ((done: number, total: number) => void) | undefined;
}

/**
 * Takes files as the walk finds them and hashes them while the walk goes on: full batches go to the
 * hashing threads at once, so the walk (main thread) and the hashing (worker threads) overlap.
 */
export class HashDispatcher {
  private readonly paths: string[] = [];
  private readonly results: (FileHashResult | undefined)[] = [];
  private readonly jobs: Promise<void>[] = [];
  private pool: HashPool | undefined;
  private sent = 0;
  private done = 0;
  private lastProgress = 0;

  constructor(private readonly options: DispatchOptions) {}

  /** Queues a file; returns its index in the results. */
  add(fsPath: string): number {
    this.paths.push(fsPath);
    if (this.options.hashIn === 'workers' && this.paths.length > INLINE_MAX_FILES) {
      while (this.paths.length - this.sent >= BATCH_FILES) this.send(BATCH_FILES);
    }
    return this.paths.length - 1;
  }

  /** Hashes what is left once the walk is over; results in the order files were added. */
  async finish(): Promise<FileHashResult[]> {
    if (this.options.hashIn === 'main' || (this.pool === undefined && (await this.isSmall()))) {
      await this.hashInMain();
    } else {
      // The tail in smaller batches, so no thread idles while another works through a long batch.
      const threads = this.threads();
      const rest = this.paths.length - this.sent;
      const size = Math.max(1, Math.min(BATCH_FILES, Math.ceil(rest / (threads * 2))));
      while (this.sent < this.paths.length) this.send(size);
    }
    // By index: a batch that sends big files back adds their jobs while we wait.
    for (let i = 0; i < this.jobs.length; i++) await this.jobs[i];
    this.options.onProgress?.(this.done, this.paths.length);
    return this.results as FileHashResult[];
  }

  private threads(): number {
    return Math.max(1, this.options.concurrency ?? availableParallelism());
  }

  private send(count: number): void {
    const start = this.sent;
    const slice = this.paths.slice(start, start + count);
    this.sent += slice.length;
    this.submit(slice, DEFER_ABOVE_BYTES, (rs) => {
      rs.forEach((r, i) => {
        if ('defer' in r) this.submit([slice[i]!], 0, ([one]) => this.settle(start + i, [one!]));
        else this.settle(start + i, [r]);
      });
    });
  }

  private submit(paths: string[], deferAbove: number, then: (rs: FileHashResult[]) => void): void {
    this.pool ??= sharedHashPool(this.threads());
    const { algorithms, normalizeLineEndings } = this.options;
    const job = this.pool.hash(paths, algorithms, normalizeLineEndings, deferAbove).then(then);
    // Observed by finish(); until then (or if the walk fails first) a failure must not count as unhandled.
    job.catch(() => undefined);
    this.jobs.push(job);
  }

  private settle(start: number, rs: FileHashResult[]): void {
    rs.forEach((r, i) => (this.results[start + i] = r));
    this.done += rs.length;
    const now = Date.now();
    if (this.options.onProgress !== undefined && now - this.lastProgress >= PROGRESS_INTERVAL_MS) {
      this.lastProgress = now;
      this.options.onProgress(this.done, this.paths.length);
    }
  }

  private async isSmall(): Promise<boolean> {
    if (this.paths.length > INLINE_MAX_FILES) return false;
    let bytes = 0;
    for (const p of this.paths)
      bytes += await stat(p).then(
        (s) => s.size,
        () => 0,
      );
    return bytes <= INLINE_MAX_BYTES;
  }

  /** Small walks, and the single-thread alternative that bench/record.ts measures against the threads. */
  private async hashInMain(): Promise<void> {
    const { algorithms, normalizeLineEndings } = this.options;
    let next = 0;
    const lane = async (): Promise<void> => {
      const buffer = Buffer.allocUnsafe(256 * 1024);
      while (next < this.paths.length) {
        const i = next++;
        this.settle(i, [await hashFileAsync(this.paths[i]!, algorithms, normalizeLineEndings, buffer)]);
      }
    };
    await Promise.all(Array.from({ length: 8 }, lane));
  }
}
