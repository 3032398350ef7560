import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { openPostgresDatastore, openSqliteDatastore, type Datastore } from '../../../src/identity/server/datastore/index.js';
import { dropSchema, PG_URL, pgSchemaOrSkip } from './pg-fixture.js';

/*
 * The DDL released versions of evident ran, migration by migration, copied here on purpose: the current
 * code renders its DDL from one schema description, and must still open and upgrade what these built.
 * Never edit them; when a release adds a migration, append its DDL as it was released.
 */
const RELEASED_SQLITE: readonly string[] = [
  `CREATE TABLE entries (
     id TEXT PRIMARY KEY,
     spiffe_id TEXT NOT NULL,
     parent_id TEXT NOT NULL,
     selectors TEXT NOT NULL,
     x509_svid_ttl INTEGER NOT NULL,
     jwt_svid_ttl INTEGER NOT NULL,
     dns_names TEXT NOT NULL,
     hint TEXT NOT NULL,
     admin INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     revision INTEGER NOT NULL,
     UNIQUE (spiffe_id, parent_id, selectors));
   CREATE INDEX entries_parent ON entries(parent_id);
   CREATE TABLE agents (
     spiffe_id TEXT PRIMARY KEY,
     attestation_type TEXT NOT NULL,
     selectors TEXT NOT NULL,
     cert_serial TEXT NOT NULL,
     cert_not_after INTEGER NOT NULL,
     can_reattest INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL);
   CREATE TABLE join_tokens (
     token TEXT PRIMARY KEY,
     expires_at INTEGER NOT NULL,
     used_at INTEGER);
   CREATE TABLE ca_keys (
     id TEXT PRIMARY KEY,
     kind TEXT NOT NULL,
     status TEXT NOT NULL,
     not_before INTEGER NOT NULL,
     not_after INTEGER NOT NULL,
     cert_pem TEXT NOT NULL,
     private_key_pem TEXT NOT NULL,
     public_jwk TEXT NOT NULL,
     created_at INTEGER NOT NULL);
   CREATE UNIQUE INDEX ca_keys_one_per_status ON ca_keys(kind, status) WHERE status IN ('prepared', 'active');
   CREATE TABLE bundles (
     trust_domain TEXT PRIMARY KEY,
     data TEXT NOT NULL,
     sequence INTEGER NOT NULL,
     updated_at INTEGER NOT NULL);`,
  `ALTER TABLE agents ADD COLUMN new_cert_serial TEXT NOT NULL DEFAULT '';
   ALTER TABLE agents ADD COLUMN new_cert_not_after INTEGER NOT NULL DEFAULT 0;`,
];

const RELEASED_POSTGRES: readonly string[] = [
  `CREATE TABLE entries (
     id TEXT PRIMARY KEY,
     spiffe_id TEXT NOT NULL,
     parent_id TEXT NOT NULL,
     selectors TEXT NOT NULL,
     x509_svid_ttl INTEGER NOT NULL,
     jwt_svid_ttl INTEGER NOT NULL,
     dns_names TEXT NOT NULL,
     hint TEXT NOT NULL,
     admin BOOLEAN NOT NULL,
     created_at BIGINT NOT NULL,
     revision INTEGER NOT NULL,
     UNIQUE (spiffe_id, parent_id, selectors));
   CREATE INDEX entries_parent ON entries(parent_id);
   CREATE TABLE agents (
     spiffe_id TEXT PRIMARY KEY,
     attestation_type TEXT NOT NULL,
     selectors TEXT NOT NULL,
     cert_serial TEXT NOT NULL,
     cert_not_after BIGINT NOT NULL,
     can_reattest BOOLEAN NOT NULL,
     created_at BIGINT NOT NULL,
     updated_at BIGINT NOT NULL);
   CREATE TABLE join_tokens (
     token TEXT PRIMARY KEY,
     expires_at BIGINT NOT NULL,
     used_at BIGINT);
   CREATE TABLE ca_keys (
     id TEXT PRIMARY KEY,
     kind TEXT NOT NULL,
     status TEXT NOT NULL,
     not_before BIGINT NOT NULL,
     not_after BIGINT NOT NULL,
     cert_pem TEXT NOT NULL,
     private_key_pem TEXT NOT NULL,
     public_jwk TEXT NOT NULL,
     created_at BIGINT NOT NULL);
   CREATE UNIQUE INDEX ca_keys_one_per_status ON ca_keys(kind, status) WHERE status IN ('prepared', 'active');
   CREATE TABLE bundles (
     trust_domain TEXT PRIMARY KEY,
     data TEXT NOT NULL,
     sequence INTEGER NOT NULL,
     updated_at BIGINT NOT NULL);`,
  `ALTER TABLE agents ADD COLUMN new_cert_serial TEXT NOT NULL DEFAULT '';
   ALTER TABLE agents ADD COLUMN new_cert_not_after BIGINT NOT NULL DEFAULT 0;`,
];

/** The data a released database holds before the upgrade, in its columns of schema 1. */
const AGENT = 'spiffe://example.org/evident/agent/join_token/t';
const INSERT_V1 = [
  `INSERT INTO agents (spiffe_id, attestation_type, selectors, cert_serial, cert_not_after, can_reattest, created_at, updated_at)
     VALUES ('${AGENT}', 'join_token', '[["x509pop","subject:cn:n1"]]', 'ab01', 5000, false, 1, 2)`,
  `INSERT INTO entries (id, spiffe_id, parent_id, selectors, x509_svid_ttl, jwt_svid_ttl, dns_names, hint, admin, created_at, revision)
     VALUES ('e1', 'spiffe://example.org/w', '${AGENT}', '[["unix","uid:1000"]]', 60, 0, '["a.example"]', 'h', true, 3, 4)`,
  `INSERT INTO join_tokens (token, expires_at, used_at) VALUES ('tok', 9000, 8000)`,
];

/** What a current datastore must read from the released data, and that it can still write (schema 2's columns). */
async function assertUpgraded(ds: Datastore): Promise<void> {
  assert.deepEqual(await ds.agents.fetch(AGENT), {
    spiffeId: AGENT,
    attestationType: 'join_token',
    selectors: [{ type: 'x509pop', value: 'subject:cn:n1' }],
    certSerial: 'ab01',
    certNotAfter: 5000,
    newCertSerial: '',
    newCertNotAfter: 0,
    canReattest: false,
    createdAt: 1,
    updatedAt: 2,
  });
  assert.deepEqual(await ds.entries.fetch('e1'), {
    id: 'e1',
    spiffeId: 'spiffe://example.org/w',
    parentId: AGENT,
    selectors: [{ type: 'unix', value: 'uid:1000' }],
    x509SvidTtl: 60,
    jwtSvidTtl: 0,
    dnsNames: ['a.example'],
    hint: 'h',
    admin: true,
    createdAt: 3,
    revision: 4,
  });
  assert.deepEqual(await ds.joinTokens.use('tok', 1), { ok: false, reason: 'used' });
  await ds.agents.update({ ...(await ds.agents.fetch(AGENT))!, newCertSerial: 'ab02', newCertNotAfter: 9000 });
  assert.equal((await ds.agents.promote(AGENT, 'ab02', 3))?.certSerial, 'ab02');
}

/** An SQLite database's tables, columns and indexes, as SQLite describes them. */
function sqliteCatalog(file: string): unknown {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as { name: string }[];
    return tables.map(({ name }) => ({
      name,
      columns: db.pragma(`table_xinfo(${name})`),
      indexes: (db.pragma(`index_list(${name})`) as { name: string }[]).map((i) => ({
        ...i,
        columns: db.pragma(`index_xinfo(${i.name})`),
      })),
      // a partial index's condition is only in its SQL (compared without the layout)
      indexSql: (
        db.prepare(`SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name`).all(name) as {
          sql: string;
        }[]
      ).map((r) => r.sql.replace(/\s+/g, ' ').replace(/ \(/g, '(')),
    }));
  } finally {
    db.close();
  }
}

describe('sqlite: databases built by released versions open and upgrade', () => {
  for (let version = 1; version <= RELEASED_SQLITE.length; version++) {
    it(`schema ${version}`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'evident-ds-'));
      try {
        const old = join(dir, 'old.sqlite3');
        const db = new Database(old);
        db.exec(`CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version (version) VALUES (${version});`);
        for (const ddl of RELEASED_SQLITE.slice(0, version)) db.exec(ddl);
        // the released code stored SQLite booleans as 1 and 0
        for (const insert of INSERT_V1) db.exec(insert.replace(/\btrue\b/, '1').replace(/\bfalse\b/, '0'));
        db.close();
        const ds = openSqliteDatastore(old);
        await assertUpgraded(ds);
        await ds.close();
        const fresh = join(dir, 'fresh.sqlite3');
        await openSqliteDatastore(fresh).close();
        assert.deepEqual(sqliteCatalog(old), sqliteCatalog(fresh), 'an upgraded database has the tables a new one has');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});

/** A PostgreSQL schema's tables, columns, constraints and indexes, as the catalog describes them. */
async function postgresCatalog(c: pg.Client, schema: string): Promise<unknown> {
  const q = async (text: string) => (await c.query(text, [schema])).rows;
  return {
    columns: await q(`SELECT table_name, column_name, ordinal_position, data_type, is_nullable, column_default
      FROM information_schema.columns WHERE table_schema = $1 ORDER BY table_name, ordinal_position`),
    constraints: await q(`SELECT t.relname, c.conname, pg_get_constraintdef(c.oid) AS def
      FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid WHERE c.connamespace = $1::regnamespace ORDER BY c.conname`),
    indexes: (await q(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname`)).map((r) => ({
      ...r,
      indexdef: (r.indexdef as string).replaceAll(`${schema}.`, ''),
    })),
  };
}

describe('postgres: schemas built by released versions open and upgrade', () => {
  for (let version = 1; version <= RELEASED_POSTGRES.length; version++) {
    it(`schema ${version}`, async (t) => {
      const old = await pgSchemaOrSkip();
      if (old === undefined) return t.skip('PostgreSQL is not reachable');
      const fresh = `${old}_fresh`;
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      try {
        await c.query(`CREATE SCHEMA ${old}; SET search_path = ${old}`);
        await c.query(`CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version (version) VALUES (${version})`);
        for (const ddl of RELEASED_POSTGRES.slice(0, version)) await c.query(ddl);
        for (const insert of INSERT_V1) await c.query(insert);
        const ds = await openPostgresDatastore(PG_URL, { schema: old, max: 2 });
        try {
          await assertUpgraded(ds);
        } finally {
          await ds.close();
        }
        await (await openPostgresDatastore(PG_URL, { schema: fresh, max: 2 })).close();
        assert.deepEqual(await postgresCatalog(c, old), await postgresCatalog(c, fresh), 'an upgraded schema has the tables a new one has');
      } finally {
        await c.end();
        await dropSchema(old);
        await dropSchema(fresh);
      }
    });
  }
});
