import { openPostgresDialect, type PostgresOptions } from '../../../sql/open-postgres.js';
import { MIGRATIONS } from './schema.js';
import { datastoreOn } from './stores.js';
import type { Datastore } from './types.js';

export type { PostgresOptions };

/**
 * The PostgreSQL datastore: several servers can share one, which is how a trust domain gets more than
 * one server. Opening migrates the database to the current schema.
 */
export async function openPostgresDatastore(url: string, options: PostgresOptions = {}): Promise<Datastore> {
  return datastoreOn(await openPostgresDialect(url, MIGRATIONS, options));
}
