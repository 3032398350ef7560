import { randomUUID } from 'node:crypto';
import { EvidentError } from '../../../errors.js';
import type { Datastore, RegistrationEntry, Selector } from '../datastore/index.js';
import { selectorsKey } from '../datastore/index.js';
import type { SpiffeId } from '../../../spiffe/spiffeid/index.js';
import { parseSpiffeId, serverSpiffeId } from '../spiffe-id.js';
import { selectorProblem } from '../../common/selectors.js';
import { selectorKindsFor, type SelectorKinds } from './selector-kinds.js';

/** What a caller supplies to create or update an entry (snake_case, as on the admin API). */
export interface EntryInput {
  spiffe_id?: unknown;
  parent_id?: unknown;
  selectors?: unknown;
  x509_svid_ttl?: unknown;
  jwt_svid_ttl?: unknown;
  dns_names?: unknown;
  hint?: unknown;
  admin?: unknown;
}

/** One bad field of an entry. */
export interface FieldProblem {
  field: string;
  message: string;
}

/** Every bad field of an entry, reported at once (sigstore-js habit: collect, then throw once). */
export class EntryValidationError extends EvidentError {
  constructor(readonly problems: FieldProblem[]) {
    super('BAD_INPUT', `entry: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`);
  }
}

/** Parses `type:value` (`unix:uid:1000` is type `unix`, value `uid:1000`). */
export function parseSelector(s: string): Selector | undefined {
  const i = s.indexOf(':');
  if (i <= 0 || i === s.length - 1) return undefined;
  return { type: s.slice(0, i), value: s.slice(i + 1) };
}

function selectorList(v: unknown, problems: FieldProblem[]): Selector[] {
  if (!Array.isArray(v) || v.length === 0) {
    problems.push({ field: 'selectors', message: 'at least one selector (TYPE:VALUE) is required' });
    return [];
  }
  const out: Selector[] = [];
  for (const item of v) {
    const sel =
      typeof item === 'string'
        ? parseSelector(item)
        : item && typeof item === 'object' && typeof (item as Selector).type === 'string' && typeof (item as Selector).value === 'string'
          ? { type: (item as Selector).type, value: (item as Selector).value }
          : undefined;
    if (!sel || sel.type === '' || sel.value === '')
      problems.push({
        field: 'selectors',
        message: `'${String(typeof item === 'string' ? item : JSON.stringify(item))}' is not TYPE:VALUE`,
      });
    else out.push(sel);
  }
  if (new Set(out.map((s) => `${s.type}:${s.value}`)).size !== out.length)
    problems.push({ field: 'selectors', message: 'a selector is repeated' });
  return out;
}

function ttl(v: unknown, field: string, problems: FieldProblem[]): number {
  if (v === undefined || v === null) return 0;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 10 * 365 * 86400) {
    problems.push({ field, message: 'must be a whole number of seconds (0 for the default)' });
    return 0;
  }
  return n;
}

const DNS_RE = /^(?=.{1,253}$)(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

function idField(v: unknown, field: string, trustDomain: string, problems: FieldProblem[]): string {
  if (typeof v !== 'string' || v === '') {
    problems.push({ field, message: 'is required' });
    return '';
  }
  let id: SpiffeId;
  try {
    id = parseSpiffeId(v);
  } catch (e) {
    problems.push({ field, message: (e as Error).message });
    return v;
  }
  const { trustDomain: td, path } = id;
  if (td.name !== trustDomain) problems.push({ field, message: `'${v}' is in trust domain '${td}', not '${trustDomain}'` });
  else if (path === '') problems.push({ field, message: `'${v}' has no path (that is the trust domain itself)` });
  // The server's and agents' own IDs live under /evident: an entry giving one to a workload would let it
  // pose as the server to agents, or as another agent to the server.
  else if (field === 'spiffe_id' && (path === '/evident' || path.startsWith('/evident/'))) {
    problems.push({ field, message: `'${v}' is in the reserved /evident/ namespace of the server and its agents` });
  }
  return v;
}

/**
 * Turns input into an entry, checking every field and, against the datastore, that no other entry has
 * the same spiffe_id, parent_id and selectors. Throws one EntryValidationError listing every problem.
 * With `existing`, fields left out keep their current values (an update). Selectors must be of the
 * `kinds` some attestor produces: by default every known attestor's; the server passes its own.
 */
export async function validateEntry(
  input: EntryInput,
  trustDomain: string,
  ds: Datastore,
  now: number,
  existing?: RegistrationEntry,
  kinds: SelectorKinds = selectorKindsFor(),
): Promise<RegistrationEntry> {
  const problems: FieldProblem[] = [];
  const merged: EntryInput = existing
    ? {
        spiffe_id: existing.spiffeId,
        parent_id: existing.parentId,
        selectors: existing.selectors,
        x509_svid_ttl: existing.x509SvidTtl,
        jwt_svid_ttl: existing.jwtSvidTtl,
        dns_names: existing.dnsNames,
        hint: existing.hint,
        admin: existing.admin,
        ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)),
      }
    : input;
  const spiffeId = idField(merged.spiffe_id, 'spiffe_id', trustDomain, problems);
  const parentId = idField(merged.parent_id, 'parent_id', trustDomain, problems);
  if (spiffeId !== '' && spiffeId === parentId) problems.push({ field: 'parent_id', message: 'an entry cannot be its own parent' });
  const selectors = selectorList(merged.selectors, problems);
  // Checked only when selectors are given: an update of another field keeps what was accepted before.
  if (input.selectors !== undefined && parentId !== '') {
    const node = parentId === serverSpiffeId(trustDomain);
    for (const sel of selectors) {
      const problem = node
        ? selectorProblem(sel, kinds.node, `node attestor of this server (a node entry, parented to ${parentId})`)
        : selectorProblem(sel, kinds.workload, 'workload attestor');
      if (problem !== undefined) problems.push({ field: 'selectors', message: problem });
    }
  }
  const x509SvidTtl = ttl(merged.x509_svid_ttl, 'x509_svid_ttl', problems);
  const jwtSvidTtl = ttl(merged.jwt_svid_ttl, 'jwt_svid_ttl', problems);
  let dnsNames: string[] = [];
  if (merged.dns_names !== undefined) {
    if (!Array.isArray(merged.dns_names) || merged.dns_names.some((d) => typeof d !== 'string'))
      problems.push({ field: 'dns_names', message: 'must be a list of names' });
    else {
      dnsNames = merged.dns_names as string[];
      for (const d of dnsNames) if (!DNS_RE.test(d)) problems.push({ field: 'dns_names', message: `'${d}' is not a DNS name` });
    }
  }
  const hint = merged.hint ?? '';
  if (typeof hint !== 'string') problems.push({ field: 'hint', message: 'must be a string' });
  const admin = merged.admin ?? false;
  if (typeof admin !== 'boolean') problems.push({ field: 'admin', message: 'must be true or false' });
  if (problems.every((p) => p.field !== 'spiffe_id' && p.field !== 'parent_id' && p.field !== 'selectors')) {
    const key = selectorsKey(selectors);
    const dup = (await ds.entries.list({ spiffeId, parentId })).find((e) => e.id !== existing?.id && selectorsKey(e.selectors) === key);
    if (dup) problems.push({ field: 'entry', message: `duplicate of entry ${dup.id} (same spiffe_id, parent_id and selectors)` });
  }
  if (problems.length > 0) throw new EntryValidationError(problems);
  return {
    id: existing?.id ?? randomUUID(),
    spiffeId,
    parentId,
    selectors,
    x509SvidTtl,
    jwtSvidTtl,
    dnsNames,
    hint: hint as string,
    admin: admin as boolean,
    createdAt: existing?.createdAt ?? now,
    revision: existing?.revision ?? 0,
  };
}

/** The entry as the admin API and `--json` show it. */
export function entryToJson(e: RegistrationEntry): Record<string, unknown> {
  return {
    id: e.id,
    spiffe_id: e.spiffeId,
    parent_id: e.parentId,
    selectors: e.selectors.map((s) => `${s.type}:${s.value}`),
    x509_svid_ttl: e.x509SvidTtl,
    jwt_svid_ttl: e.jwtSvidTtl,
    dns_names: e.dnsNames,
    hint: e.hint,
    admin: e.admin,
    created_at: new Date(e.createdAt).toISOString(),
    revision: e.revision,
  };
}
