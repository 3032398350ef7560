import { EvidentError } from '../errors.js';
import { renderMigrations } from './ddl.js';
import { sql, type Dialect, type TxBody } from './dialect.js';
import type { Migration } from './schema.js';

/**
 * Brings a database to the current schema in one transaction: runs the migrations it has not had, in
 * order, and records how many it has had in `versionTable` (one per datastore, so that two datastores
 * may share a database). Refuses a database from a newer evident.
 */
export function* migration(db: Dialect, schema: readonly Migration[], versionTable = 'schema_version'): TxBody<void> {
  const migrations = renderMigrations(schema, db.types);
  if (db.migrationLock) yield db.migrationLock;
  yield sql(`CREATE TABLE IF NOT EXISTS ${versionTable} (version INTEGER NOT NULL)`);
  const [row] = yield sql(`SELECT version FROM ${versionTable}`);
  if (row === undefined) yield sql(`INSERT INTO ${versionTable} (version) VALUES (0)`);
  const version = row === undefined ? 0 : Number(row.version);
  if (version > migrations.length) {
    throw new EvidentError('ENVIRONMENT', `datastore schema version ${version} is newer than this evident (${migrations.length})`);
  }
  if (version === migrations.length) return;
  for (const statement of migrations.slice(version).flat()) yield sql(statement);
  yield sql(`UPDATE ${versionTable} SET version = ?`, migrations.length);
}
