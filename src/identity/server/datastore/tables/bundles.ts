import { sql, type Dialect, type Row } from '../../../../sql/dialect.js';
import { Table } from '../table.js';
import type { BundleStore, StoredBundle } from '../types.js';

export function bundleStore(db: Dialect): BundleStore {
  const t = new Table(db, 'bundles', toBundle);
  return {
    create: (b) => t.insert({ trust_domain: b.trustDomain, data: b.data, sequence: b.sequence, updated_at: b.updatedAt }),
    fetch: (td) => t.get(td),
    list: () => t.select({}, 'trust_domain'),
    async update(td, data, now) {
      // one upsert: servers storing a bundle together each get their own sequence number
      const [stored] = await t.rows(
        sql(
          `INSERT INTO bundles (trust_domain, data, sequence, updated_at) VALUES (?, ?, 1, ?)
        ON CONFLICT (trust_domain) DO UPDATE SET data = excluded.data, sequence = bundles.sequence + 1, updated_at = excluded.updated_at
        RETURNING *`,
          td,
          data,
          now,
        ),
      );
      return stored!;
    },
    delete: (td) => t.delete(td),
    count: () => t.count(),
  };
}

function toBundle(r: Row): StoredBundle {
  return { trustDomain: r.trust_domain as string, data: r.data as string, sequence: Number(r.sequence), updatedAt: Number(r.updated_at) };
}
