import { join } from 'node:path';
import { badInput } from '../../../errors.js';
import { openPostgresDatastore } from './postgres.js';
import { openSqliteDatastore } from './sqlite.js';
import type { Datastore } from './types.js';

/** The SQLite file a data dir holds. */
export const SQLITE_FILE = 'datastore.sqlite3';

/**
 * Opens the datastore a `--datastore` setting names: `sqlite` (default: one file in the data dir),
 * `sqlite:PATH`, or a `postgres://` / `postgresql://` URL.
 */
export async function openDatastore(spec: string | undefined, dataDir: string): Promise<Datastore> {
  const s = spec ?? 'sqlite';
  if (s === 'sqlite') return openSqliteDatastore(join(dataDir, SQLITE_FILE));
  if (s.startsWith('sqlite:')) return openSqliteDatastore(s.slice('sqlite:'.length));
  if (s.startsWith('postgres://') || s.startsWith('postgresql://')) return openPostgresDatastore(s);
  throw badInput(`datastore: '${s}' is neither 'sqlite' nor a postgres:// URL`);
}
