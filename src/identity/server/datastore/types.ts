/**
 * The datastore: everything the server must not lose across a restart. One interface, implemented once
 * (schema.ts, tables/) over two SQL dialects (SQLite for one server, PostgreSQL for several sharing a
 * trust domain), one contract test suite both pass. Times are milliseconds since the epoch.
 */

import type { Selector } from '../../proto/selector.js';

export type { Selector };

export interface RegistrationEntry {
  id: string;
  spiffeId: string;
  parentId: string;
  selectors: Selector[];
  /** Seconds; 0 means the server's default. */
  x509SvidTtl: number;
  jwtSvidTtl: number;
  dnsNames: string[];
  hint: string;
  admin: boolean;
  createdAt: number;
  /** Bumped on every update, so agents can tell a changed entry from an unchanged one. */
  revision: number;
}

export interface AttestedAgent {
  spiffeId: string;
  attestationType: string;
  selectors: Selector[];
  /** Serial (hex) and expiry of the agent's current SVID: the one it has been seen to use. */
  certSerial: string;
  certNotAfter: number;
  /**
   * A renewed SVID not yet seen in use ('' and 0 when none), as SPIRE keeps it: the agent switches to it
   * with its next connection, and from then on the one before is refused.
   */
  newCertSerial: string;
  newCertNotAfter: number;
  canReattest: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface JoinToken {
  token: string;
  expiresAt: number;
  /** When the token was used, or null while unused. */
  usedAt: number | null;
}

/** root: the trust domain's own root, which signs the x509 signing CAs; x509: a signing CA; jwt: a JWT-SVID key. */
export type CaKeyKind = 'root' | 'x509' | 'jwt';
/** prepared: published, not signing yet; active: signing; old: published until it expires. */
export type CaKeyStatus = 'prepared' | 'active' | 'old';

export interface CaKey {
  id: string;
  kind: CaKeyKind;
  status: CaKeyStatus;
  notBefore: number;
  notAfter: number;
  /** PEM chain for root and x509 keys (the CA cert first, then an upstream's intermediates); '' for jwt keys. */
  certPem: string;
  /** PKCS#8 PEM. */
  privateKeyPem: string;
  /** The public key as a JWK (JSON), with `kid` for jwt keys. */
  publicJwk: string;
  createdAt: number;
}

export interface StoredBundle {
  trustDomain: string;
  /** The bundle in the SPIFFE bundle format (JSON). */
  data: string;
  sequence: number;
  updatedAt: number;
}

export interface EntryFilter {
  parentId?: string;
  spiffeId?: string;
}

/** Result of trying to use a join token: the token when this call used it, else why not. */
export type JoinTokenUse = { ok: true; token: JoinToken } | { ok: false; reason: 'unknown' | 'used' | 'expired' };

export interface EntryStore {
  create(entry: RegistrationEntry): Promise<RegistrationEntry>;
  fetch(id: string): Promise<RegistrationEntry | undefined>;
  list(filter?: EntryFilter): Promise<RegistrationEntry[]>;
  /** Replaces the entry with the same id and bumps its revision; undefined when there is none. */
  update(entry: RegistrationEntry): Promise<RegistrationEntry | undefined>;
  delete(id: string): Promise<boolean>;
  count(): Promise<number>;
}

export interface AgentStore {
  create(agent: AttestedAgent): Promise<AttestedAgent>;
  fetch(spiffeId: string): Promise<AttestedAgent | undefined>;
  list(): Promise<AttestedAgent[]>;
  update(agent: AttestedAgent): Promise<AttestedAgent | undefined>;
  /**
   * Makes the pending renewed SVID the current one, if it is still the one with `newCertSerial` (one
   * conditional write: a renewal that came in between is not lost). Returns the agent as it then is.
   */
  promote(spiffeId: string, newCertSerial: string, updatedAt: number): Promise<AttestedAgent | undefined>;
  delete(spiffeId: string): Promise<boolean>;
  /** Removes agents whose SVIDs (current and pending) expired before `before`; returns how many. */
  prune(before: number): Promise<number>;
  count(): Promise<number>;
}

export interface JoinTokenStore {
  create(token: JoinToken): Promise<JoinToken>;
  fetch(token: string): Promise<JoinToken | undefined>;
  list(): Promise<JoinToken[]>;
  /**
   * Marks the token used if it is unused and unexpired, atomically: of several servers racing on one
   * token, exactly one gets `ok: true`.
   */
  use(token: string, now: number): Promise<JoinTokenUse>;
  delete(token: string): Promise<boolean>;
  /** Removes tokens that expired before `before`. */
  prune(before: number): Promise<number>;
  count(): Promise<number>;
}

export interface CaKeyStore {
  /** Fails (returns undefined) when it would make a second `prepared` or `active` key of a kind. */
  create(key: CaKey): Promise<CaKey | undefined>;
  fetch(id: string): Promise<CaKey | undefined>;
  list(kind?: CaKeyKind): Promise<CaKey[]>;
  /**
   * Atomically makes the prepared key `id` active and the active one old; false when `id` is no
   * longer prepared (another server got there first).
   */
  activate(kind: CaKeyKind, id: string): Promise<boolean>;
  delete(id: string): Promise<boolean>;
  /** Removes keys that expired before `before`. */
  prune(before: number): Promise<number>;
  count(): Promise<number>;
}

export interface BundleStore {
  create(bundle: StoredBundle): Promise<StoredBundle>;
  fetch(trustDomain: string): Promise<StoredBundle | undefined>;
  list(): Promise<StoredBundle[]>;
  /** Stores the data with the next sequence number (creating the bundle if missing). */
  update(trustDomain: string, data: string, now: number): Promise<StoredBundle>;
  delete(trustDomain: string): Promise<boolean>;
  count(): Promise<number>;
}

export interface Datastore {
  readonly kind: 'sqlite' | 'postgres';
  readonly entries: EntryStore;
  readonly agents: AgentStore;
  readonly joinTokens: JoinTokenStore;
  readonly caKeys: CaKeyStore;
  readonly bundles: BundleStore;
  close(): Promise<void>;
}
