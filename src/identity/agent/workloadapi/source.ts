import type { Selector } from '../workloadattest/types.js';

/** A registration entry as the agent serves it. */
export interface ServedEntry {
  id: string;
  spiffeId: string;
  selectors: Selector[];
  hint: string;
  /** Seconds; 0: the server's default. */
  jwtSvidTtl?: number;
  x509SvidTtl?: number;
  dnsNames?: string[];
  revision?: number;
  /** Creation time (ms): older entries come first, so the default identity is stable. */
  createdAt?: number;
}

/** An X.509-SVID ready to hand out, in the Workload API's wire form. */
export interface X509Identity {
  entryId: string;
  spiffeId: string;
  hint: string;
  /** DER certificates, leaf first, concatenated. */
  certChain: Buffer;
  /** PKCS#8 DER. */
  privateKey: Buffer;
  notBefore: Date;
  expiresAt: Date;
}

/** Trust bundles by trust-domain ID (`spiffe://td`): the agent's own trust domain and federated ones. */
export interface TrustBundles {
  /** `spiffe://td` of the agent's own trust domain. */
  trustDomainId: string;
  /** Concatenated DER root certificates. */
  x509: ReadonlyMap<string, Buffer>;
  /** JWKS documents (every key has a `kid`). */
  jwt: ReadonlyMap<string, string>;
}

export interface JwtToken {
  token: string;
  expiresAt: Date;
}

/**
 * What the Workload API server serves from: the agent's cache in production, filled by hand in tests.
 * `subscribe` is told after any change (new SVIDs, entries, bundles) so streams can push updates.
 */
export interface WorkloadIdentitySource {
  /** The entries whose selectors are all among `selectors`, the default identity first. */
  matchEntries(selectors: readonly Selector[]): ServedEntry[];
  /** The current X.509-SVID of an entry, or undefined while it is being issued. */
  x509Svid(entryId: string): X509Identity | undefined;
  bundles(): TrustBundles | undefined;
  /** A JWT-SVID for the entry and audience (issued by the server; cached by the agent). */
  jwtSvid(entry: ServedEntry, audience: readonly string[]): Promise<JwtToken>;
  subscribe(listener: () => void): () => void;
  /** When the entries were last fetched from the server (ms), for the hint a caller without identity gets. */
  entriesFetchedAt?(): number | undefined;
}

/** A selector as one string, for sets of them (`type` cannot hold the NUL between). */
export function selectorKey(s: Selector): string {
  return `${s.type}\u0000${s.value}`;
}

/** Whether every selector of `subset` is among `set` (a workload matches an entry this way). */
export function selectorsSubsetOf(subset: readonly Selector[], set: readonly Selector[]): boolean {
  if (subset.length === 0) return false; // an entry without selectors matches nobody
  const have = new Set(set.map(selectorKey));
  return subset.every((s) => have.has(selectorKey(s)));
}
