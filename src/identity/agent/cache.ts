import { systemClock, type Clock } from '../../util/clock.js';
import {
  selectorKey,
  type JwtToken,
  type ServedEntry,
  type TrustBundles,
  type WorkloadIdentitySource,
  type X509Identity,
} from './workloadapi/source.js';
import type { Selector } from './workloadattest/types.js';

/** Signs a JWT-SVID for an entry: the server's SignJwtSvid in the agent, a local key in tests. */
export type JwtSigner = (entry: ServedEntry, audience: readonly string[]) => Promise<JwtToken>;

export interface SvidCacheOptions {
  jwtSigner?: JwtSigner;
  /** Decides expiry and JWT-SVID reuse (default: the system clock). */
  clock?: Clock;
  /** Told when a subscriber threw (the agent logs it); the other subscribers are told of the change regardless. */
  onListenerError?: (e: unknown) => void;
}

/**
 * The agent's cache of what it may serve: entries, their X.509-SVIDs, the trust bundles, JWT-SVIDs by
 * entry and audience. The Workload API reads it; the agent's sync loop (or a test) writes it. Writers
 * batch their changes in `update`, so streams see one consistent change, once.
 */
export class SvidCache implements WorkloadIdentitySource {
  private entries: ServedEntry[] = [];
  /**
   * Each entry under its first selector, with its place in `entries`: an entry matches only a caller that has
   * all its selectors, so only the entries filed under one of the caller's are worth checking. With hundreds
   * of entries on an agent (issue 20's soak: 300), a scan of all of them on every call was a tenth of its CPU.
   */
  private byFirstSelector = new Map<string, { entry: ServedEntry; order: number }[]>();
  private readonly svids = new Map<string, X509Identity>();
  private trustBundles: TrustBundles | undefined;
  private readonly jwts = new Map<string, { token: JwtToken; issuedAt: number }>();
  private readonly listeners = new Set<() => void>();
  private jwtSigner: JwtSigner | undefined;
  private readonly clock: Clock;
  private readonly onListenerError: (e: unknown) => void;
  private depth = 0;
  private dirty = false;
  private entriesAt: number | undefined;

  constructor(options: SvidCacheOptions = {}) {
    this.jwtSigner = options.jwtSigner;
    this.clock = options.clock ?? systemClock;
    this.onListenerError = options.onListenerError ?? (() => undefined);
  }

  setJwtSigner(signer: JwtSigner): void {
    this.jwtSigner = signer;
  }

  /** Runs `fn` and notifies subscribers once afterwards if anything changed. */
  update<T>(fn: () => T): T {
    this.depth++;
    try {
      return fn();
    } finally {
      this.depth--;
      if (this.depth === 0 && this.dirty) {
        this.dirty = false;
        // every open stream must hear of a rotation: one that throws (its client gone mid-write) must not
        // keep the streams after it from being pushed their new SVIDs
        for (const l of [...this.listeners]) {
          try {
            l();
          } catch (e) {
            this.onListenerError(e);
          }
        }
      }
    }
  }

  private changed(): void {
    this.dirty = true;
    if (this.depth === 0) this.update(() => undefined);
  }

  /** Replaces the entries; SVIDs and JWTs of entries that are gone are dropped. */
  setEntries(entries: readonly ServedEntry[]): void {
    this.entriesAt = this.clock.now();
    this.entries = [...entries].sort((a, b) => (a.createdAt ?? 0) - (b.createdAt ?? 0) || a.id.localeCompare(b.id));
    this.byFirstSelector = new Map();
    this.entries.forEach((entry, order) => {
      const first = entry.selectors[0];
      if (first === undefined) return; // an entry without selectors matches nobody
      const key = selectorKey(first);
      const filed = this.byFirstSelector.get(key);
      if (filed) filed.push({ entry, order });
      else this.byFirstSelector.set(key, [{ entry, order }]);
    });
    const ids = new Set(entries.map((e) => e.id));
    for (const id of this.svids.keys()) if (!ids.has(id)) this.svids.delete(id);
    for (const key of this.jwts.keys()) if (!ids.has(key.split('\u0000')[0] ?? '')) this.jwts.delete(key);
    this.changed();
  }

  /** When the entries were last set (ms), the agent's last fetch from the server; undefined before the first. */
  entriesFetchedAt(): number | undefined {
    return this.entriesAt;
  }

  listEntries(): readonly ServedEntry[] {
    return this.entries;
  }

  setX509Svid(identity: X509Identity): void {
    this.svids.set(identity.entryId, identity);
    this.changed();
  }

  listX509Svids(): X509Identity[] {
    return [...this.svids.values()];
  }

  setBundles(bundles: TrustBundles): void {
    this.trustBundles = bundles;
    this.changed();
  }

  /** The entries whose selectors the caller all has, in the entries' order (the oldest, the default identity, first). */
  matchEntries(selectors: readonly Selector[]): ServedEntry[] {
    const have = new Set(selectors.map(selectorKey));
    const found: { entry: ServedEntry; order: number }[] = [];
    for (const key of have)
      for (const c of this.byFirstSelector.get(key) ?? []) if (c.entry.selectors.every((s) => have.has(selectorKey(s)))) found.push(c);
    return found.sort((a, b) => a.order - b.order).map((c) => c.entry);
  }

  /** The entry's SVID while it is valid: an expired one (the server was down too long) is never served. */
  x509Svid(entryId: string): X509Identity | undefined {
    const svid = this.svids.get(entryId);
    return svid && svid.expiresAt.getTime() > this.clock.now() ? svid : undefined;
  }

  bundles(): TrustBundles | undefined {
    return this.trustBundles;
  }

  /** A cached JWT-SVID while it has more than half its life left, else a fresh one from the signer. */
  async jwtSvid(entry: ServedEntry, audience: readonly string[]): Promise<JwtToken> {
    const key = `${entry.id}\u0000${entry.revision ?? 0}\u0000${[...new Set(audience)].sort().join('\u0000')}`;
    const hit = this.jwts.get(key);
    const now = this.clock.now();
    if (hit) {
      const expires = hit.token.expiresAt.getTime();
      if (expires - now > (expires - hit.issuedAt) / 2) return hit.token;
    }
    if (!this.jwtSigner) throw new Error('no JWT-SVID signer configured');
    const token = await this.jwtSigner(entry, audience);
    this.jwts.set(key, { token, issuedAt: now });
    return token;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
