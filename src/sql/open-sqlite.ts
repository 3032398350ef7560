import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import { EvidentError } from '../errors.js';
import { migration } from './migrate.js';
import type { Migration } from './schema.js';
import { SqliteDialect } from './sqlite-dialect.js';

export interface SqliteOpenOptions {
  /** Where this datastore counts its migrations; default `schema_version`. */
  versionTable?: string;
  /**
   * SQLite's `synchronous` in WAL mode. NORMAL: a commit survives the process being killed, not a power
   * loss; FULL: the WAL is synced at every commit, so it survives both.
   */
  synchronous?: 'NORMAL' | 'FULL';
  /** More settings, each `PRAGMA` text (`cache_size = -65536`), set before migrating. */
  pragmas?: readonly string[];
}

/**
 * One SQLite file (WAL, so readers never block the writer), created mode 0600, migrated to `schema`.
 * Opens synchronously.
 */
export function openSqliteDialect(file: string, schema: readonly Migration[], options: SqliteOpenOptions = {}): SqliteDialect {
  const fresh = !existsSync(file);
  let db: Database.Database;
  try {
    // Created 0600 before SQLite opens it: a file made with the umask's mode and narrowed afterwards could
    // be opened by anyone in between, and that descriptor would read what is written later (CA keys).
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
    db.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
    for (const pragma of options.pragmas ?? []) db.pragma(pragma);
    dialect.transactionSync(migration(dialect, schema, options.versionTable));
  } catch (e) {
    db.close();
    throw e;
  }
  return dialect;
}
