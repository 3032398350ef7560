import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import { EvidentError } from '../../../errors.js';
import { SQLITE_MIGRATIONS } from './sqlite-schema.js';
import { duplicateEntry, isUniqueViolation, selectorsKey, toAgent, toBundle, toCaKey, toEntry, toToken, type Row } from './rows.js';
import type {
  AgentStore, BundleStore, CaKeyKind, CaKeyStore, Datastore, EntryFilter, EntryStore, JoinTokenStore, JoinTokenUse, RegistrationEntry,
} from './types.js';

type Db = Database.Database;

/**
 * The default datastore: one SQLite file (WAL, so readers never block the writer), mode 0600 because it
 * holds CA private keys. better-sqlite3 is synchronous; each call is short, so the async interface is
 * only a wrapper.
 */
export function openSqliteDatastore(file: string): Datastore {
  const fresh = !existsSync(file);
  let db: Db;
  try {
    // Created 0600 before SQLite opens it: a file made with the umask's mode and narrowed afterwards could
    // be opened by anyone in between, and that descriptor would read the CA keys written later.
    if (fresh && file !== ':memory:') closeSync(openSync(file, 'wx', 0o600));
    db = new Database(file);
  } catch (e) {
    throw new EvidentError('ENVIRONMENT', `cannot open SQLite datastore: ${(e as Error).message}`, { file, cause: e });
  }
  if (fresh && file !== ':memory:') chmodSync(file, 0o600);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('synchronous = NORMAL');
  migrate(db);
  return {
    kind: 'sqlite',
    entries: entryStore(db),
    agents: agentStore(db),
    joinTokens: joinTokenStore(db),
    caKeys: caKeyStore(db),
    bundles: bundleStore(db),
    close: async () => {
      db.close();
    },
  };
}

function migrate(db: Db): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
  const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
  let version = row?.version ?? 0;
  if (row === undefined) db.prepare('INSERT INTO schema_version (version) VALUES (0)').run();
  if (version > SQLITE_MIGRATIONS.length) {
    throw new EvidentError('ENVIRONMENT', `datastore schema version ${version} is newer than this evident (${SQLITE_MIGRATIONS.length})`);
  }
  for (; version < SQLITE_MIGRATIONS.length; version++) {
    const sql = SQLITE_MIGRATIONS[version]!;
    db.transaction(() => {
      db.exec(sql);
      db.prepare('UPDATE schema_version SET version = ?').run(version + 1);
    })();
  }
}

function entryParams(e: RegistrationEntry): unknown[] {
  return [e.spiffeId, e.parentId, selectorsKey(e.selectors), e.x509SvidTtl, e.jwtSvidTtl, JSON.stringify(e.dnsNames), e.hint, e.admin ? 1 : 0];
}

function entryStore(db: Db): EntryStore {
  const insert = db.prepare(`INSERT INTO entries (spiffe_id, parent_id, selectors, x509_svid_ttl, jwt_svid_ttl, dns_names, hint, admin, id, created_at, revision)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const byId = db.prepare('SELECT * FROM entries WHERE id = ?');
  const upd = db.prepare(`UPDATE entries SET spiffe_id = ?, parent_id = ?, selectors = ?, x509_svid_ttl = ?, jwt_svid_ttl = ?, dns_names = ?, hint = ?, admin = ?, revision = revision + 1 WHERE id = ?`);
  return {
    async create(e) {
      try {
        insert.run(...entryParams(e), e.id, e.createdAt, e.revision);
      } catch (err) {
        if (isUniqueViolation(err)) throw duplicateEntry(err);
        throw err;
      }
      return toEntry(byId.get(e.id) as Row);
    },
    async fetch(id) {
      const r = byId.get(id) as Row | undefined;
      return r && toEntry(r);
    },
    async list(filter: EntryFilter = {}) {
      const where: string[] = [];
      const args: string[] = [];
      if (filter.parentId !== undefined) {
        where.push('parent_id = ?');
        args.push(filter.parentId);
      }
      if (filter.spiffeId !== undefined) {
        where.push('spiffe_id = ?');
        args.push(filter.spiffeId);
      }
      const sql = `SELECT * FROM entries${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id`;
      return (db.prepare(sql).all(...args) as Row[]).map(toEntry);
    },
    async update(e) {
      try {
        if (upd.run(...entryParams(e), e.id).changes === 0) return undefined;
      } catch (err) {
        if (isUniqueViolation(err)) throw duplicateEntry(err);
        throw err;
      }
      return toEntry(byId.get(e.id) as Row);
    },
    async delete(id) {
      return db.prepare('DELETE FROM entries WHERE id = ?').run(id).changes > 0;
    },
    async count() {
      return Number((db.prepare('SELECT COUNT(*) AS n FROM entries').get() as Row).n);
    },
  };
}

function agentStore(db: Db): AgentStore {
  const byId = db.prepare('SELECT * FROM agents WHERE spiffe_id = ?');
  return {
    async create(a) {
      db.prepare(`INSERT INTO agents (spiffe_id, attestation_type, selectors, cert_serial, cert_not_after, new_cert_serial, new_cert_not_after, can_reattest, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(a.spiffeId, a.attestationType, selectorsKey(a.selectors), a.certSerial, a.certNotAfter, a.newCertSerial, a.newCertNotAfter, a.canReattest ? 1 : 0, a.createdAt, a.updatedAt);
      return toAgent(byId.get(a.spiffeId) as Row);
    },
    async fetch(id) {
      const r = byId.get(id) as Row | undefined;
      return r && toAgent(r);
    },
    async list() {
      return (db.prepare('SELECT * FROM agents ORDER BY spiffe_id').all() as Row[]).map(toAgent);
    },
    async update(a) {
      const n = db
        .prepare(`UPDATE agents SET attestation_type = ?, selectors = ?, cert_serial = ?, cert_not_after = ?, new_cert_serial = ?, new_cert_not_after = ?, can_reattest = ?, updated_at = ?
          WHERE spiffe_id = ?`)
        .run(a.attestationType, selectorsKey(a.selectors), a.certSerial, a.certNotAfter, a.newCertSerial, a.newCertNotAfter, a.canReattest ? 1 : 0, a.updatedAt, a.spiffeId).changes;
      return n === 0 ? undefined : toAgent(byId.get(a.spiffeId) as Row);
    },
    async promote(id, serial, updatedAt) {
      db.prepare(`UPDATE agents SET cert_serial = new_cert_serial, cert_not_after = new_cert_not_after, new_cert_serial = '', new_cert_not_after = 0, updated_at = ?
        WHERE spiffe_id = ? AND new_cert_serial = ? AND new_cert_serial != ''`).run(updatedAt, id, serial);
      const r = byId.get(id) as Row | undefined;
      return r && toAgent(r);
    },
    async delete(id) {
      return db.prepare('DELETE FROM agents WHERE spiffe_id = ?').run(id).changes > 0;
    },
    async prune(before) {
      // an agent whose renewed SVID is still valid is kept, whether or not it has used it yet
      return db.prepare('DELETE FROM agents WHERE cert_not_after < ? AND new_cert_not_after < ?').run(before, before).changes;
    },
    async count() {
      return Number((db.prepare('SELECT COUNT(*) AS n FROM agents').get() as Row).n);
    },
  };
}

function joinTokenStore(db: Db): JoinTokenStore {
  const byId = db.prepare('SELECT * FROM join_tokens WHERE token = ?');
  // A single UPDATE with the conditions in its WHERE clause: SQLite serialises writers, so two callers
  // cannot both see the token unused.
  const useStmt = db.prepare('UPDATE join_tokens SET used_at = ? WHERE token = ? AND used_at IS NULL AND expires_at > ?');
  return {
    async create(t) {
      db.prepare('INSERT INTO join_tokens (token, expires_at, used_at) VALUES (?, ?, ?)').run(t.token, t.expiresAt, t.usedAt);
      return t;
    },
    async fetch(token) {
      const r = byId.get(token) as Row | undefined;
      return r && toToken(r);
    },
    async list() {
      return (db.prepare('SELECT * FROM join_tokens ORDER BY expires_at').all() as Row[]).map(toToken);
    },
    async use(token, now): Promise<JoinTokenUse> {
      if (useStmt.run(now, token, now).changes === 1) return { ok: true, token: toToken(byId.get(token) as Row) };
      const r = byId.get(token) as Row | undefined;
      if (!r) return { ok: false, reason: 'unknown' };
      return { ok: false, reason: r.used_at !== null ? 'used' : 'expired' };
    },
    async delete(token) {
      return db.prepare('DELETE FROM join_tokens WHERE token = ?').run(token).changes > 0;
    },
    async prune(before) {
      return db.prepare('DELETE FROM join_tokens WHERE expires_at < ?').run(before).changes;
    },
    async count() {
      return Number((db.prepare('SELECT COUNT(*) AS n FROM join_tokens').get() as Row).n);
    },
  };
}

function caKeyStore(db: Db): CaKeyStore {
  const byId = db.prepare('SELECT * FROM ca_keys WHERE id = ?');
  return {
    async create(k) {
      try {
        db.prepare(`INSERT INTO ca_keys (id, kind, status, not_before, not_after, cert_pem, private_key_pem, public_jwk, created_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(k.id, k.kind, k.status, k.notBefore, k.notAfter, k.certPem, k.privateKeyPem, k.publicJwk, k.createdAt);
      } catch (e) {
        if (isUniqueViolation(e)) return undefined;
        throw e;
      }
      return k;
    },
    async fetch(id) {
      const r = byId.get(id) as Row | undefined;
      return r && toCaKey(r);
    },
    async list(kind?: CaKeyKind) {
      const rows = kind === undefined
        ? db.prepare('SELECT * FROM ca_keys ORDER BY not_before, id').all()
        : db.prepare('SELECT * FROM ca_keys WHERE kind = ? ORDER BY not_before, id').all(kind);
      return (rows as Row[]).map(toCaKey);
    },
    async activate(kind, id) {
      return db.transaction(() => {
        const r = byId.get(id) as Row | undefined;
        if (!r || r.status !== 'prepared' || r.kind !== kind) return false;
        db.prepare(`UPDATE ca_keys SET status = 'old' WHERE kind = ? AND status = 'active'`).run(kind);
        db.prepare(`UPDATE ca_keys SET status = 'active' WHERE id = ?`).run(id);
        return true;
      }).immediate();
    },
    async delete(id) {
      return db.prepare('DELETE FROM ca_keys WHERE id = ?').run(id).changes > 0;
    },
    async prune(before) {
      return db.prepare('DELETE FROM ca_keys WHERE not_after < ?').run(before).changes;
    },
    async count() {
      return Number((db.prepare('SELECT COUNT(*) AS n FROM ca_keys').get() as Row).n);
    },
  };
}

function bundleStore(db: Db): BundleStore {
  const byId = db.prepare('SELECT * FROM bundles WHERE trust_domain = ?');
  return {
    async create(b) {
      db.prepare('INSERT INTO bundles (trust_domain, data, sequence, updated_at) VALUES (?, ?, ?, ?)').run(b.trustDomain, b.data, b.sequence, b.updatedAt);
      return b;
    },
    async fetch(td) {
      const r = byId.get(td) as Row | undefined;
      return r && toBundle(r);
    },
    async list() {
      return (db.prepare('SELECT * FROM bundles ORDER BY trust_domain').all() as Row[]).map(toBundle);
    },
    async update(td, data, now) {
      db.prepare(`INSERT INTO bundles (trust_domain, data, sequence, updated_at) VALUES (?, ?, 1, ?)
        ON CONFLICT (trust_domain) DO UPDATE SET data = excluded.data, sequence = bundles.sequence + 1, updated_at = excluded.updated_at`).run(td, data, now);
      return toBundle(byId.get(td) as Row);
    },
    async delete(td) {
      return db.prepare('DELETE FROM bundles WHERE trust_domain = ?').run(td).changes > 0;
    },
    async count() {
      return Number((db.prepare('SELECT COUNT(*) AS n FROM bundles').get() as Row).n);
    },
  };
}
