import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import { EvidentError } from '../../../errors.js';
import { migration } from './migrate.js';
import { SqliteDialect } from './sqlite-dialect.js';
import { datastoreOn } from './stores.js';
import type { Datastore } from './types.js';

/**
 * The default datastore: one SQLite file (WAL, so readers never block the writer), mode 0600 because it
 * holds CA private keys. Opens synchronously, migrating the file to the current schema.
 */
export function openSqliteDatastore(file: string): Datastore {
  const fresh = !existsSync(file);
  let db: Database.Database;
  try {
    // Created 0600 before SQLite opens it: a file made with the umask's mode and narrowed afterwards could
    // be opened by anyone in between, and that descriptor would read the CA keys written later.
    if (fresh && file !== ':memory:') closeSync(openSync(file, 'wx', 0o600));
    db = new Database(file);
  } catch (e) {
    throw new EvidentError('ENVIRONMENT', `cannot open SQLite datastore: ${(e as Error).message}`, { file, cause: e });
  }
  if (fresh && file !== ':memory:') chmodSync(file, 0o600);
  const dialect = new SqliteDialect(db);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000');
    db.pragma('synchronous = NORMAL');
    dialect.transactionSync(migration(dialect));
  } catch (e) {
    db.close();
    throw e;
  }
  return datastoreOn(dialect);
}
