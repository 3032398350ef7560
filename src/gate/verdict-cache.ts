/** A verdict remembered for one (policy, digest): fresh until `freshUntil`; an allowed one usable in a store outage until `staleUntil`. */
export interface CachedVerdict<V> {
  readonly verdict: V;
  readonly allowed: boolean;
  /** Epoch ms: until then the verdict is given without asking the store. */
  readonly freshUntil: number;
  /** Epoch ms: until then an allowed verdict still admits when the store cannot be reached. */
  readonly staleUntil: number;
}

/**
 * The gate's verdicts by key, bounded in number (the oldest goes first), and the verifications under way,
 * so that concurrent identical requests share one (single-flight).
 */
export class VerdictCache<V> {
  private readonly entries = new Map<string, CachedVerdict<V>>();
  private readonly inFlight = new Map<string, Promise<V>>();
  private prunedAt = -Infinity;

  constructor(private readonly maxEntries = 10_000) {}

  get(key: string): CachedVerdict<V> | undefined {
    return this.entries.get(key);
  }

  set(key: string, entry: CachedVerdict<V>): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  /** Drops entries no longer usable at `now` (neither fresh nor usable stale); a full pass at most once a minute. */
  prune(now: number): void {
    if (now - this.prunedAt < 60_000 && now >= this.prunedAt) return;
    this.prunedAt = now;
    for (const [key, entry] of this.entries) if (entry.freshUntil <= now && entry.staleUntil <= now) this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  /** `work()` once for `key` however many callers ask while it runs; each gets its result. */
  shared(key: string, work: () => Promise<V>): Promise<V> {
    const running = this.inFlight.get(key);
    if (running !== undefined) return running;
    const started = work().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, started);
    return started;
  }
}
