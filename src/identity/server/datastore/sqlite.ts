import { openSqliteDialect } from '../../../sql/open-sqlite.js';
import { MIGRATIONS } from './schema.js';
import { datastoreOn } from './stores.js';
import type { Datastore } from './types.js';

/**
 * The default datastore: one SQLite file (WAL, so readers never block the writer), mode 0600 because it
 * holds CA private keys. Opens synchronously, migrating the file to the current schema.
 */
export function openSqliteDatastore(file: string): Datastore {
  return datastoreOn(openSqliteDialect(file, MIGRATIONS));
}
