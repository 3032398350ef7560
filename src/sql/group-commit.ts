/**
 * Group commit: writes submitted while a commit is being prepared or is in flight are committed together,
 * in one transaction and so one sync of the log, and each caller is answered only once the commit that
 * holds its item has returned. Durability per acknowledged write is unchanged (nothing is answered before
 * it is committed); what changes is that N concurrent writers cost one sync instead of N.
 *
 * A batch starts one turn of the event loop after its first item (setImmediate), so every request read in
 * that turn joins it; while a commit is in flight (PostgreSQL: a network round trip; SQLite: a synchronous
 * call that holds the event loop, during which requests wait in the sockets) newer items wait for the next
 * batch, which starts as soon as that commit returns. One commit is in flight at a time: on PostgreSQL,
 * where several could be, one batch a transaction measured faster than several (fewer round trips of
 * BEGIN/COMMIT and fewer syncs), and it keeps the order of commits that of the batches.
 */
export class GroupCommit<I, R> {
  private queue: Pending<I, R>[] = [];
  private running: Promise<void> | undefined;
  private closed = false;

  /**
   * @param commit commits the items in one transaction, in order, and gives one result per item; throws
   *   (and commits nothing) when the transaction fails
   * @param maxBatch items per transaction at most; more wait for the next one
   */
  constructor(
    private readonly commit: (items: readonly I[]) => Promise<readonly R[]>,
    private readonly maxBatch = 256,
  ) {}

  /** The item's result once the transaction holding it has committed; its error when that failed. */
  submit(item: I): Promise<R> {
    if (this.closed) return Promise.reject(new Error('group commit: closed'));
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.running ??= this.run();
    });
  }

  /** Refuses new items and returns once those already submitted are committed (or have failed). */
  async close(): Promise<void> {
    this.closed = true;
    await this.running;
  }

  private async run(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    // commitBatch answers its callers and never throws
    while (this.queue.length > 0) await this.commitBatch(this.queue.splice(0, this.maxBatch));
    // no await between the check above and this line: an item submitted from here on starts a new run
    this.running = undefined;
  }

  private async commitBatch(batch: readonly Pending<I, R>[]): Promise<void> {
    let results: readonly R[];
    try {
      results = await this.commit(batch.map((p) => p.item));
    } catch (e) {
      if (batch.length === 1) return batch[0]!.reject(e);
      // the failed transaction committed nothing, and one item may be what failed it: each is tried
      // alone, so only its own caller hears of it (a failure of the database fails each of them anyway)
      for (const p of batch) await this.commitBatch([p]);
      return;
    }
    if (results.length !== batch.length) {
      const e = new Error(`group commit: ${results.length} results for ${batch.length} items`);
      return batch.forEach((p) => p.reject(e));
    }
    batch.forEach((p, i) => p.resolve(results[i]!));
  }
}

interface Pending<I, R> {
  readonly item: I;
  resolve(result: R): void;
  reject(error: unknown): void;
}
