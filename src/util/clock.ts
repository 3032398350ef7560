/**
 * Now, in milliseconds since the epoch: the one source of time for whatever decides by it (CA rotation,
 * SVID expiry, renewal at half-life), so tests freeze or advance it instead of waiting.
 */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to: rotation and expiry are tested without waiting. */
export class ManualClock implements Clock {
  constructor(private ms: number) {}
  now(): number {
    return this.ms;
  }
  set(ms: number): void {
    this.ms = ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}
