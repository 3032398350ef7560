import { EvidentError } from '../../../../errors.js';
import type { Dialect, Row } from '../../../../sql/dialect.js';
import { selectorsFromJson, selectorsKey } from '../selectors.js';
import { bool, Table } from '../table.js';
import type { EntryFilter, EntryStore, RegistrationEntry } from '../types.js';

export function entryStore(db: Dialect): EntryStore {
  const t = new Table(db, 'entries', toEntry);
  return {
    create: (e) => t.unlessDuplicate(t.insert({ id: e.id, ...columns(e), created_at: e.createdAt, revision: e.revision }), duplicateEntry),
    fetch: (id) => t.get(id),
    list: (filter: EntryFilter = {}) => t.select({ parent_id: filter.parentId, spiffe_id: filter.spiffeId }, 'created_at, id'),
    // the revision tells agents a changed entry from an unchanged one
    update: (e) => t.unlessDuplicate(t.update(e.id, columns(e), ['revision = revision + 1']), duplicateEntry),
    delete: (id) => t.delete(id),
    count: () => t.count(),
  };
}

/** The columns an update may change. */
function columns(e: RegistrationEntry): Row {
  return {
    spiffe_id: e.spiffeId,
    parent_id: e.parentId,
    selectors: selectorsKey(e.selectors),
    x509_svid_ttl: e.x509SvidTtl,
    jwt_svid_ttl: e.jwtSvidTtl,
    dns_names: JSON.stringify(e.dnsNames),
    hint: e.hint,
    admin: e.admin,
  };
}

function toEntry(r: Row): RegistrationEntry {
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

function duplicateEntry(e: unknown): never {
  throw new EvidentError('BAD_INPUT', 'entry: an entry with the same spiffe_id, parent_id and selectors exists', { cause: e });
}
