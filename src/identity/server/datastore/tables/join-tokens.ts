import { sql, type Dialect, type Row } from '../../../../sql/dialect.js';
import { Table } from '../table.js';
import type { JoinToken, JoinTokenStore, JoinTokenUse } from '../types.js';

export function joinTokenStore(db: Dialect): JoinTokenStore {
  const t = new Table(db, 'join_tokens', toToken);
  return {
    create: (tok) => t.insert({ token: tok.token, expires_at: tok.expiresAt, used_at: tok.usedAt }),
    fetch: (token) => t.get(token),
    list: () => t.select({}, 'expires_at'),
    async use(token, now): Promise<JoinTokenUse> {
      // One UPDATE with the conditions in its WHERE clause. SQLite serialises writers; in PostgreSQL the row
      // lock makes a racing UPDATE re-check `used_at IS NULL` once the first commits, and change nothing.
      const [used] = await t.rows(
        sql(
          `UPDATE join_tokens SET used_at = ?
        WHERE token = ? AND used_at IS NULL AND expires_at > ? RETURNING *`,
          now,
          token,
          now,
        ),
      );
      if (used) return { ok: true, token: used };
      const r = await t.get(token);
      if (!r) return { ok: false, reason: 'unknown' };
      return { ok: false, reason: r.usedAt !== null ? 'used' : 'expired' };
    },
    delete: (token) => t.delete(token),
    prune: (before) => t.deleteWhere('expires_at < ?', before),
    count: () => t.count(),
  };
}

function toToken(r: Row): JoinToken {
  return { token: r.token as string, expiresAt: Number(r.expires_at), usedAt: r.used_at === null ? null : Number(r.used_at) };
}
