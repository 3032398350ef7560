import { EvidentError } from '../../../errors.js';
import type { AttestedAgent, CaKey, JoinToken, RegistrationEntry, Selector, StoredBundle } from './types.js';

/** Selectors in one canonical order, so equal sets compare (and are unique-indexed) as equal strings. */
export function sortSelectors(selectors: Selector[]): Selector[] {
  return [...selectors].sort((a, b) => (a.type === b.type ? cmp(a.value, b.value) : cmp(a.type, b.type)));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The canonical string key of a selector set (for the duplicate-entry unique index). */
export function selectorsKey(selectors: Selector[]): string {
  return JSON.stringify(sortSelectors(selectors).map((s) => [s.type, s.value]));
}

export function selectorsFromJson(json: string): Selector[] {
  return (JSON.parse(json) as [string, string][]).map(([type, value]) => ({ type, value }));
}

/** Whether a database error is a unique-constraint violation (SQLite or PostgreSQL). */
export function isUniqueViolation(e: unknown): boolean {
  const err = e as { code?: string };
  return err?.code === 'SQLITE_CONSTRAINT_UNIQUE' || err?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || err?.code === '23505';
}

export type Row = Record<string, unknown>;

/** SQLite stores booleans as 0/1, PostgreSQL as booleans. */
function bool(v: unknown): boolean {
  return v === true || Number(v) === 1;
}

export function toEntry(r: Row): RegistrationEntry {
  return {
    id: r.id as string,
    spiffeId: r.spiffe_id as string,
    parentId: r.parent_id as string,
    selectors: selectorsFromJson(r.selectors as string),
    x509SvidTtl: Number(r.x509_svid_ttl),
    jwtSvidTtl: Number(r.jwt_svid_ttl),
    dnsNames: JSON.parse(r.dns_names as string) as string[],
    hint: r.hint as string,
    admin: bool(r.admin),
    createdAt: Number(r.created_at),
    revision: Number(r.revision),
  };
}

export function toAgent(r: Row): AttestedAgent {
  return {
    spiffeId: r.spiffe_id as string,
    attestationType: r.attestation_type as string,
    selectors: selectorsFromJson(r.selectors as string),
    certSerial: r.cert_serial as string,
    certNotAfter: Number(r.cert_not_after),
    newCertSerial: r.new_cert_serial as string,
    newCertNotAfter: Number(r.new_cert_not_after),
    canReattest: bool(r.can_reattest),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export function toToken(r: Row): JoinToken {
  return { token: r.token as string, expiresAt: Number(r.expires_at), usedAt: r.used_at === null ? null : Number(r.used_at) };
}

export function toCaKey(r: Row): CaKey {
  return {
    id: r.id as string,
    kind: r.kind as CaKey['kind'],
    status: r.status as CaKey['status'],
    notBefore: Number(r.not_before),
    notAfter: Number(r.not_after),
    certPem: r.cert_pem as string,
    privateKeyPem: r.private_key_pem as string,
    publicJwk: r.public_jwk as string,
    createdAt: Number(r.created_at),
  };
}

export function toBundle(r: Row): StoredBundle {
  return { trustDomain: r.trust_domain as string, data: r.data as string, sequence: Number(r.sequence), updatedAt: Number(r.updated_at) };
}

export function duplicateEntry(e: unknown): EvidentError {
  return new EvidentError('BAD_INPUT', 'entry: an entry with the same spiffe_id, parent_id and selectors exists', { cause: e });
}
