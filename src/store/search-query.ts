import { EvidentError } from '../errors.js';
import type { EvidenceSearch, EvidenceSummary } from './evidence-db.js';
import type { EvidenceItem } from './client.js';
import type { StoreDigest } from './digest.js';
import type { ArtifactRole } from './evidence.js';

export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 500;

const PARAMS = new Set(['digest', 'role', 'step', 'signer', 'since', 'until', 'limit', 'cursor']);
const ROLES = new Set(['subject', 'material', 'product']);

/**
 * The search a query string asks for (`GET /v1/evidence`), every problem a BAD_INPUT naming the
 * parameter: an unknown or repeated parameter is refused rather than ignored, as a typo would otherwise
 * widen the search silently.
 */
export function parseSearchQuery(query: Record<string, unknown>): EvidenceSearch {
  const one = (name: string): string | undefined => {
    const v = query[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw bad(`${name} is given more than once`);
    return v;
  };
  for (const k of Object.keys(query)) if (!PARAMS.has(k)) throw bad(`unknown parameter '${k.slice(0, 40)}'`);
  const digest = one('digest')?.toLowerCase();
  if (digest !== undefined && !/^[a-z0-9-]+:[0-9a-f]+$/.test(digest))
    throw bad(`digest must be alg:hex (sha256:HEX), not '${digest.slice(0, 80)}'`);
  const role = one('role');
  if (role !== undefined && !ROLES.has(role)) throw bad(`role must be subject, material or product, not '${role.slice(0, 40)}'`);
  if (role !== undefined && digest === undefined) throw bad('role needs digest');
  const limitText = one('limit');
  const asked = limitText === undefined ? DEFAULT_PAGE : Number(limitText);
  if (!Number.isSafeInteger(asked) || asked < 1) throw bad(`limit must be a positive integer, not '${String(limitText).slice(0, 40)}'`);
  // a page holds at most MAX_PAGE: a larger limit is served as MAX_PAGE items and a cursor
  const limit = Math.min(asked, MAX_PAGE);
  const step = one('step');
  const signer = one('signer');
  const since = time(one('since'), 'since');
  const until = time(one('until'), 'until');
  const cursor = one('cursor');
  return {
    limit,
    ...(digest !== undefined ? { digest } : {}),
    ...(role !== undefined ? { role: role as ArtifactRole } : {}),
    ...(step !== undefined ? { step } : {}),
    ...(signer !== undefined ? { signer } : {}),
    ...(since !== undefined ? { since } : {}),
    ...(until !== undefined ? { until } : {}),
    ...(cursor !== undefined ? { after: decodeCursor(cursor) } : {}),
  };
}

function time(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(ms)) throw bad(`${name} must be an ISO 8601 time (2025-01-31T12:00:00Z), not '${text.slice(0, 40)}'`);
  return ms;
}

/** How a search answers one item (`GET /v1/evidence`): a summary with its time in ISO 8601. */
export function evidenceItem(s: EvidenceSummary): EvidenceItem {
  return {
    digest: s.digest as StoreDigest,
    kind: s.kind,
    ...(s.step !== undefined ? { step: s.step } : {}),
    ...(s.predicateType !== undefined ? { predicateType: s.predicateType } : {}),
    signers: s.signers,
    storedAt: new Date(s.storedAt).toISOString(),
    timestamps: s.timestamps,
  };
}

/** The cursor of the page after `last`: where it ended, opaque to clients. */
export function encodeCursor(last: EvidenceSummary): string {
  return Buffer.from(JSON.stringify([last.storedAt, last.digest])).toString('base64url');
}

function decodeCursor(cursor: string): { storedAt: number; digest: string } {
  try {
    const [storedAt, digest] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (Number.isSafeInteger(storedAt) && typeof digest === 'string') return { storedAt: storedAt as number, digest };
  } catch {
    // refused below
  }
  throw bad('cursor is not one this store gave');
}

function bad(message: string): EvidentError {
  return new EvidentError('BAD_INPUT', message);
}
