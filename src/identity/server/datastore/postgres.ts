import pg from 'pg';
import { EvidentError } from '../../../errors.js';
import { POSTGRES_MIGRATIONS } from './postgres-schema.js';
import { duplicateEntry, isUniqueViolation, selectorsKey, toAgent, toBundle, toCaKey, toEntry, toToken, type Row } from './rows.js';
import type { AgentStore, BundleStore, CaKeyStore, Datastore, EntryFilter, EntryStore, JoinTokenStore, JoinTokenUse, RegistrationEntry } from './types.js';


export interface PostgresOptions {
  /** A schema to use (created if missing); tests use one per run. Default: the connection's default. */
  schema?: string;
  /** Pool size. */
  max?: number;
}

/**
 * The PostgreSQL datastore: several servers can share one, which is how a trust domain gets more than
 * one server. Atomic steps (join-token use, CA activation) are single statements or transactions whose
 * row locks make racing servers agree.
 */
export async function openPostgresDatastore(url: string, options: PostgresOptions = {}): Promise<Datastore> {
  if (options.schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(options.schema)) {
    throw new EvidentError('BAD_INPUT', `postgres: invalid schema name '${options.schema}'`);
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    ...(options.schema !== undefined ? { options: `-c search_path=${options.schema}` } : {}),
  });
  pool.on('error', () => undefined); // an idle client dying must not crash the server; the next query reconnects
  try {
    if (options.schema !== undefined) await pool.query(`CREATE SCHEMA IF NOT EXISTS ${options.schema}`);
    await migrate(pool);
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw new EvidentError('ENVIRONMENT', `cannot open PostgreSQL datastore: ${(e as Error).message}`, { cause: e });
  }
  const q = async (sql: string, args: unknown[] = []): Promise<Row[]> => (await pool.query(sql, args)).rows as Row[];
  return {
    kind: 'postgres',
    entries: entryStore(q),
    agents: agentStore(q),
    joinTokens: joinTokenStore(q),
    caKeys: caKeyStore(pool, q),
    bundles: bundleStore(q),
    close: () => pool.end(),
  };
}

async function migrate(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // servers starting together must not both run a migration
    await client.query('SELECT pg_advisory_xact_lock(7208311)');
    await client.query('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    const rows = (await client.query('SELECT version FROM schema_version')).rows as { version: number }[];
    let version = rows[0]?.version ?? 0;
    if (rows.length === 0) await client.query('INSERT INTO schema_version (version) VALUES (0)');
    if (version > POSTGRES_MIGRATIONS.length) throw new Error(`schema version ${version} is newer than this evident`);
    for (; version < POSTGRES_MIGRATIONS.length; version++) {
      await client.query(POSTGRES_MIGRATIONS[version]!);
      await client.query('UPDATE schema_version SET version = $1', [version + 1]);
    }
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

type Query = (sql: string, args?: unknown[]) => Promise<Row[]>;

function entryArgs(e: RegistrationEntry): unknown[] {
  return [e.spiffeId, e.parentId, selectorsKey(e.selectors), e.x509SvidTtl, e.jwtSvidTtl, JSON.stringify(e.dnsNames), e.hint, e.admin];
}

async function mapDuplicate<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (isUniqueViolation(e)) throw duplicateEntry(e);
    throw e;
  }
}

function entryStore(q: Query): EntryStore {
  return {
    async create(e) {
      const rows = await mapDuplicate(q(`INSERT INTO entries (spiffe_id, parent_id, selectors, x509_svid_ttl, jwt_svid_ttl, dns_names, hint, admin, id, created_at, revision)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *`, [...entryArgs(e), e.id, e.createdAt, e.revision]));
      return toEntry(rows[0]!);
    },
    async fetch(id) {
      const r = (await q('SELECT * FROM entries WHERE id = $1', [id]))[0];
      return r && toEntry(r);
    },
    async list(filter: EntryFilter = {}) {
      const where: string[] = [];
      const args: string[] = [];
      if (filter.parentId !== undefined) {
        args.push(filter.parentId);
        where.push(`parent_id = $${args.length}`);
      }
      if (filter.spiffeId !== undefined) {
        args.push(filter.spiffeId);
        where.push(`spiffe_id = $${args.length}`);
      }
      const rows = await q(`SELECT * FROM entries${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id`, args);
      return rows.map(toEntry);
    },
    async update(e) {
      const rows = await mapDuplicate(q(`UPDATE entries SET spiffe_id = $1, parent_id = $2, selectors = $3, x509_svid_ttl = $4, jwt_svid_ttl = $5,
        dns_names = $6, hint = $7, admin = $8, revision = revision + 1 WHERE id = $9 RETURNING *`, [...entryArgs(e), e.id]));
      return rows[0] && toEntry(rows[0]);
    },
    async delete(id) {
      return (await q('DELETE FROM entries WHERE id = $1 RETURNING id', [id])).length > 0;
    },
    async count() {
      return Number((await q('SELECT COUNT(*) AS n FROM entries'))[0]!.n);
    },
  };
}

function agentStore(q: Query): AgentStore {
  return {
    async create(a) {
      const rows = await q(`INSERT INTO agents (spiffe_id, attestation_type, selectors, cert_serial, cert_not_after, new_cert_serial, new_cert_not_after, can_reattest, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *`,
      [a.spiffeId, a.attestationType, selectorsKey(a.selectors), a.certSerial, a.certNotAfter, a.newCertSerial, a.newCertNotAfter, a.canReattest, a.createdAt, a.updatedAt]);
      return toAgent(rows[0]!);
    },
    async fetch(id) {
      const r = (await q('SELECT * FROM agents WHERE spiffe_id = $1', [id]))[0];
      return r && toAgent(r);
    },
    async list() {
      return (await q('SELECT * FROM agents ORDER BY spiffe_id')).map(toAgent);
    },
    async update(a) {
      const rows = await q(`UPDATE agents SET attestation_type = $1, selectors = $2, cert_serial = $3, cert_not_after = $4, new_cert_serial = $5, new_cert_not_after = $6,
        can_reattest = $7, updated_at = $8 WHERE spiffe_id = $9 RETURNING *`,
      [a.attestationType, selectorsKey(a.selectors), a.certSerial, a.certNotAfter, a.newCertSerial, a.newCertNotAfter, a.canReattest, a.updatedAt, a.spiffeId]);
      return rows[0] && toAgent(rows[0]);
    },
    async promote(id, serial, updatedAt) {
      await q(`UPDATE agents SET cert_serial = new_cert_serial, cert_not_after = new_cert_not_after, new_cert_serial = '', new_cert_not_after = 0, updated_at = $1
        WHERE spiffe_id = $2 AND new_cert_serial = $3 AND new_cert_serial != ''`, [updatedAt, id, serial]);
      const r = (await q('SELECT * FROM agents WHERE spiffe_id = $1', [id]))[0];
      return r && toAgent(r);
    },
    async delete(id) {
      return (await q('DELETE FROM agents WHERE spiffe_id = $1 RETURNING spiffe_id', [id])).length > 0;
    },
    async prune(before) {
      // an agent whose renewed SVID is still valid is kept, whether or not it has used it yet
      return (await q('DELETE FROM agents WHERE cert_not_after < $1 AND new_cert_not_after < $1 RETURNING spiffe_id', [before])).length;
    },
    async count() {
      return Number((await q('SELECT COUNT(*) AS n FROM agents'))[0]!.n);
    },
  };
}

function joinTokenStore(q: Query): JoinTokenStore {
  return {
    async create(t) {
      await q('INSERT INTO join_tokens (token, expires_at, used_at) VALUES ($1, $2, $3)', [t.token, t.expiresAt, t.usedAt]);
      return t;
    },
    async fetch(token) {
      const r = (await q('SELECT * FROM join_tokens WHERE token = $1', [token]))[0];
      return r && toToken(r);
    },
    async list() {
      return (await q('SELECT * FROM join_tokens ORDER BY expires_at')).map(toToken);
    },
    async use(token, now): Promise<JoinTokenUse> {
      // The row lock taken by UPDATE makes a racing second UPDATE re-check `used_at IS NULL` after the
      // first commits, so it changes nothing: one use, however many servers try.
      const rows = await q('UPDATE join_tokens SET used_at = $1 WHERE token = $2 AND used_at IS NULL AND expires_at > $1 RETURNING *', [now, token]);
      if (rows[0]) return { ok: true, token: toToken(rows[0]) };
      const r = (await q('SELECT * FROM join_tokens WHERE token = $1', [token]))[0];
      if (!r) return { ok: false, reason: 'unknown' };
      return { ok: false, reason: r.used_at !== null ? 'used' : 'expired' };
    },
    async delete(token) {
      return (await q('DELETE FROM join_tokens WHERE token = $1 RETURNING token', [token])).length > 0;
    },
    async prune(before) {
      return (await q('DELETE FROM join_tokens WHERE expires_at < $1 RETURNING token', [before])).length;
    },
    async count() {
      return Number((await q('SELECT COUNT(*) AS n FROM join_tokens'))[0]!.n);
    },
  };
}

function caKeyStore(pool: pg.Pool, q: Query): CaKeyStore {
  return {
    async create(k) {
      try {
        await q(`INSERT INTO ca_keys (id, kind, status, not_before, not_after, cert_pem, private_key_pem, public_jwk, created_at)
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [k.id, k.kind, k.status, k.notBefore, k.notAfter, k.certPem, k.privateKeyPem, k.publicJwk, k.createdAt]);
      } catch (e) {
        if (isUniqueViolation(e)) return undefined;
        throw e;
      }
      return k;
    },
    async fetch(id) {
      const r = (await q('SELECT * FROM ca_keys WHERE id = $1', [id]))[0];
      return r && toCaKey(r);
    },
    async list(kind) {
      const rows = kind === undefined
        ? await q('SELECT * FROM ca_keys ORDER BY not_before, id')
        : await q('SELECT * FROM ca_keys WHERE kind = $1 ORDER BY not_before, id', [kind]);
      return rows.map(toCaKey);
    },
    async activate(kind, id) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const rows = (await client.query('SELECT status, kind FROM ca_keys WHERE id = $1 FOR UPDATE', [id])).rows as Row[];
        if (!rows[0] || rows[0].status !== 'prepared' || rows[0].kind !== kind) {
          await client.query('ROLLBACK');
          return false;
        }
        await client.query(`UPDATE ca_keys SET status = 'old' WHERE kind = $1 AND status = 'active'`, [kind]);
        await client.query(`UPDATE ca_keys SET status = 'active' WHERE id = $1`, [id]);
        await client.query('COMMIT');
        return true;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        client.release();
      }
    },
    async delete(id) {
      return (await q('DELETE FROM ca_keys WHERE id = $1 RETURNING id', [id])).length > 0;
    },
    async prune(before) {
      return (await q('DELETE FROM ca_keys WHERE not_after < $1 RETURNING id', [before])).length;
    },
    async count() {
      return Number((await q('SELECT COUNT(*) AS n FROM ca_keys'))[0]!.n);
    },
  };
}

function bundleStore(q: Query): BundleStore {
  return {
    async create(b) {
      await q('INSERT INTO bundles (trust_domain, data, sequence, updated_at) VALUES ($1, $2, $3, $4)', [b.trustDomain, b.data, b.sequence, b.updatedAt]);
      return b;
    },
    async fetch(td) {
      const r = (await q('SELECT * FROM bundles WHERE trust_domain = $1', [td]))[0];
      return r && toBundle(r);
    },
    async list() {
      return (await q('SELECT * FROM bundles ORDER BY trust_domain')).map(toBundle);
    },
    async update(td, data, now) {
      const rows = await q(`INSERT INTO bundles (trust_domain, data, sequence, updated_at) VALUES ($1, $2, 1, $3)
        ON CONFLICT (trust_domain) DO UPDATE SET data = excluded.data, sequence = bundles.sequence + 1, updated_at = excluded.updated_at RETURNING *`, [td, data, now]);
      return toBundle(rows[0]!);
    },
    async delete(td) {
      return (await q('DELETE FROM bundles WHERE trust_domain = $1 RETURNING trust_domain', [td])).length > 0;
    },
    async count() {
      return Number((await q('SELECT COUNT(*) AS n FROM bundles'))[0]!.n);
    },
  };
}
