import { EvidentError } from '../../../errors.js';
import type { Migration, TableDef } from '../../../sql/schema.js';

/**
 * The datastore's schema, once for both backends: tables, columns of a logical type, keys and indexes,
 * as the ordered migration steps that build them (sql/schema.ts). `sql/ddl.ts` renders a step in a dialect's SQL types.
 * `schema_version` counts the migrations a database has had. Append only: a released migration is never
 * edited (existing databases were built by it), a change is a new one.
 */

export const MIGRATIONS: readonly Migration[] = [
  // 1: the first release
  [
    {
      createTable: {
        name: 'entries',
        primaryKey: 'id',
        unique: [['spiffe_id', 'parent_id', 'selectors']],
        columns: {
          id: 'text',
          spiffe_id: 'text',
          parent_id: 'text',
          selectors: 'text',
          x509_svid_ttl: 'int32',
          jwt_svid_ttl: 'int32',
          dns_names: 'text',
          hint: 'text',
          admin: 'bool',
          created_at: 'int64',
          revision: 'int32',
        },
      },
    },
    { createIndex: { name: 'entries_parent', table: 'entries', columns: ['parent_id'] } },
    {
      createTable: {
        name: 'agents',
        primaryKey: 'spiffe_id',
        columns: {
          spiffe_id: 'text',
          attestation_type: 'text',
          selectors: 'text',
          cert_serial: 'text',
          cert_not_after: 'int64',
          can_reattest: 'bool',
          created_at: 'int64',
          updated_at: 'int64',
        },
      },
    },
    { createTable: { name: 'join_tokens', primaryKey: 'token', columns: { token: 'text', expires_at: 'int64', used_at: 'int64?' } } },
    {
      createTable: {
        name: 'ca_keys',
        primaryKey: 'id',
        columns: {
          id: 'text',
          kind: 'text',
          status: 'text',
          not_before: 'int64',
          not_after: 'int64',
          cert_pem: 'text',
          private_key_pem: 'text',
          public_jwk: 'text',
          created_at: 'int64',
        },
      },
    },
    // one prepared and one active key per kind: what makes racing servers' rotations agree
    {
      createIndex: {
        name: 'ca_keys_one_per_status',
        table: 'ca_keys',
        columns: ['kind', 'status'],
        unique: true,
        where: `status IN ('prepared', 'active')`,
      },
    },
    {
      createTable: {
        name: 'bundles',
        primaryKey: 'trust_domain',
        columns: { trust_domain: 'text', data: 'text', sequence: 'int32', updated_at: 'int64' },
      },
    },
  ],
  // 2: an agent's renewed SVID, pending until the agent is seen using it
  [
    { addColumn: { table: 'agents', name: 'new_cert_serial', type: 'text', default: '' } },
    { addColumn: { table: 'agents', name: 'new_cert_not_after', type: 'int64', default: 0 } },
  ],
];

/** The definition of a table (as its migration created it): where the verbs learn its key. */
export function tableDef(name: string): TableDef & { primaryKey: string } {
  for (const migration of MIGRATIONS) {
    for (const step of migration) {
      const t = 'createTable' in step ? step.createTable : undefined;
      if (t?.name === name && t.primaryKey !== undefined) return { ...t, primaryKey: t.primaryKey };
    }
  }
  throw new EvidentError('INTERNAL', `datastore schema: no table '${name}'`);
}
