import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import Database from 'better-sqlite3';
import { openSqliteDatastore } from '../../../src/identity/server/datastore/index.js';
import { SQLITE_MIGRATIONS } from '../../../src/identity/server/datastore/sqlite-schema.js';
import { runDatastoreContract } from './datastore-contract.js';

runDatastoreContract('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'evident-ds-'));
  return {
    open: async () => openSqliteDatastore(join(dir, 'ds.sqlite3')),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

it('sqlite: the file is 0600, in WAL mode, with a schema version', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'evident-ds-'));
  try {
    const file = join(dir, 'ds.sqlite3');
    const ds = openSqliteDatastore(file);
    await ds.joinTokens.create({ token: 't', expiresAt: 1, usedAt: null });
    // the WAL holds CA keys too until a checkpoint: it must be as private as the file
    assert.equal((await stat(`${file}-wal`)).mode & 0o777, 0o600);
    await ds.close();
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const db = new Database(file, { readonly: true });
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal((db.prepare('SELECT version FROM schema_version').get() as { version: number }).version, SQLITE_MIGRATIONS.length);
    db.close();
    // reopening runs no migration twice
    await openSqliteDatastore(file).close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

it('sqlite: a datastore from a newer evident is refused', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'evident-ds-'));
  try {
    const file = join(dir, 'ds.sqlite3');
    await openSqliteDatastore(file).close();
    const db = new Database(file);
    db.prepare('UPDATE schema_version SET version = 99').run();
    db.close();
    assert.throws(() => openSqliteDatastore(file), /schema version 99 is newer/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

it('sqlite: a datastore of the first schema is upgraded in place; its agents keep their SVIDs and have no renewal pending', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'evident-ds-'));
  try {
    const file = join(dir, 'ds.sqlite3');
    const db = new Database(file);
    db.exec('CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version (version) VALUES (1);');
    db.exec(SQLITE_MIGRATIONS[0]!);
    db.prepare(
      `INSERT INTO agents (spiffe_id, attestation_type, selectors, cert_serial, cert_not_after, can_reattest, created_at, updated_at)
      VALUES ('spiffe://example.org/evident/agent/join_token/t', 'join_token', '[]', 'ab01', 5000, 0, 1, 1)`,
    ).run();
    db.close();
    const ds = openSqliteDatastore(file);
    const agent = await ds.agents.fetch('spiffe://example.org/evident/agent/join_token/t');
    assert.deepEqual([agent?.certSerial, agent?.certNotAfter, agent?.newCertSerial, agent?.newCertNotAfter], ['ab01', 5000, '', 0]);
    await ds.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
