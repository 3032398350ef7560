import { sql, type Dialect, type Row, type TxBody } from '../../../../sql/dialect.js';
import { Table } from '../table.js';
import type { CaKey, CaKeyKind, CaKeyStore } from '../types.js';

export function caKeyStore(db: Dialect): CaKeyStore {
  const t = new Table(db, 'ca_keys', toCaKey);
  return {
    // the unique index on (kind, status) refuses a second prepared or active key of a kind
    create: (k) =>
      t.unlessDuplicate(
        t.insert({
          id: k.id,
          kind: k.kind,
          status: k.status,
          not_before: k.notBefore,
          not_after: k.notAfter,
          cert_pem: k.certPem,
          private_key_pem: k.privateKeyPem,
          public_jwk: k.publicJwk,
          created_at: k.createdAt,
        }),
        () => undefined,
      ),
    fetch: (id) => t.get(id),
    list: (kind) => t.select({ kind }, 'not_before, id'),
    activate: (kind, id) => db.transaction(activation(db, kind, id)),
    delete: (id) => t.delete(id),
    prune: (before) => t.deleteWhere('not_after < ?', before),
    count: () => t.count(),
  };
}

/** Makes the prepared key `id` active and the active one old; false when `id` is no longer prepared. */
function* activation(db: Dialect, kind: CaKeyKind, id: string): TxBody<boolean> {
  // locked until the end of the transaction: of servers racing to activate, the second sees the key active
  const [key] = yield sql(`SELECT status, kind FROM ca_keys WHERE id = ?${db.forUpdate}`, id);
  if (key?.status !== 'prepared' || key.kind !== kind) return false;
  // the active key steps down first: the unique index allows one active key of a kind at every moment
  yield sql(`UPDATE ca_keys SET status = 'old' WHERE kind = ? AND status = 'active'`, kind);
  yield sql(`UPDATE ca_keys SET status = 'active' WHERE id = ?`, id);
  return true;
}

function toCaKey(r: Row): CaKey {
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
