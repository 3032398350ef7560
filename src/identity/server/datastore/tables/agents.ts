import { sql, type Dialect, type Row } from '../../../../sql/dialect.js';
import { selectorsFromJson, selectorsKey } from '../selectors.js';
import { bool, Table } from '../table.js';
import type { AgentStore, AttestedAgent } from '../types.js';

export function agentStore(db: Dialect): AgentStore {
  const t = new Table(db, 'agents', toAgent);
  return {
    create: (a) => t.insert({ spiffe_id: a.spiffeId, ...columns(a), created_at: a.createdAt }),
    fetch: (id) => t.get(id),
    list: () => t.select({}, 'spiffe_id'),
    update: (a) => t.update(a.spiffeId, columns(a)),
    async promote(id, newCertSerial, updatedAt) {
      // the condition is in the one UPDATE: a renewal stored since the caller read the agent is not overwritten
      const [promoted] = await t.rows(
        sql(
          `UPDATE agents SET cert_serial = new_cert_serial, cert_not_after = new_cert_not_after,
        new_cert_serial = '', new_cert_not_after = 0, updated_at = ?
        WHERE spiffe_id = ? AND new_cert_serial = ? AND new_cert_serial != '' RETURNING *`,
          updatedAt,
          id,
          newCertSerial,
        ),
      );
      return promoted ?? t.get(id);
    },
    delete: (id) => t.delete(id),
    // an agent whose renewed SVID is still valid is kept, whether or not it has used it yet
    prune: (before) => t.deleteWhere('cert_not_after < ? AND new_cert_not_after < ?', before, before),
    count: () => t.count(),
  };
}

/** The columns an update may change. */
function columns(a: AttestedAgent): Row {
  return {
    attestation_type: a.attestationType,
    selectors: selectorsKey(a.selectors),
    cert_serial: a.certSerial,
    cert_not_after: a.certNotAfter,
    new_cert_serial: a.newCertSerial,
    new_cert_not_after: a.newCertNotAfter,
    can_reattest: a.canReattest,
    updated_at: a.updatedAt,
  };
}

function toAgent(r: Row): AttestedAgent {
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
