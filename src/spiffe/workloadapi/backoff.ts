import { setTimeout as sleep } from 'node:timers/promises';

export interface BackoffOptions {
  /** First wait after a failure, in ms (default 1000). */
  initialMs?: number;
  /** Ceiling of the doubling waits, in ms (default 30000). */
  maxMs?: number;
}

/** Exponential backoff with ±20% jitter, so a fleet of workloads does not reconnect in lockstep. */
export class Backoff {
  private current: number;
  private readonly initial: number;
  private readonly max: number;

  constructor(o: BackoffOptions = {}) {
    this.initial = o.initialMs ?? 1000;
    this.max = o.maxMs ?? 30_000;
    this.current = this.initial;
  }

  reset(): void {
    this.current = this.initial;
  }

  next(): number {
    const wait = this.current * (0.8 + Math.random() * 0.4);
    this.current = Math.min(this.current * 2, this.max);
    return Math.round(wait);
  }

  /** Waits the next delay; resolves false (instead of throwing) when `signal` aborts. */
  async wait(signal?: AbortSignal): Promise<boolean> {
    try {
      await sleep(this.next(), undefined, { signal });
      return true;
    } catch {
      return false;
    }
  }
}
