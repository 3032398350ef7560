import pg from 'pg';
import { EvidentError } from '../errors.js';
import { migration } from './migrate.js';
import { PostgresDialect } from './postgres-dialect.js';
import type { Migration } from './schema.js';

export interface PostgresOptions {
  /** A schema to use (created if missing); tests use one per run. Default: the connection's default. */
  schema?: string;
  /** Pool size. */
  max?: number;
}

/**
 * A pool on a PostgreSQL database several servers may share, migrated to `migrations` (counted in
 * `versionTable`).
 */
export async function openPostgresDialect(
  url: string,
  migrations: readonly Migration[],
  options: PostgresOptions = {},
  versionTable?: string,
): Promise<PostgresDialect> {
  if (options.schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(options.schema)) {
    throw new EvidentError('BAD_INPUT', `postgres: invalid schema name '${options.schema}'`);
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    ...(options.schema !== undefined ? { options: `-c search_path=${options.schema}` } : {}),
  });
  pool.on('error', () => undefined); // an idle client dying must not crash the server; the next query reconnects
  const dialect = new PostgresDialect(pool);
  try {
    if (options.schema !== undefined) await pool.query(`CREATE SCHEMA IF NOT EXISTS ${options.schema}`);
    await dialect.transaction(migration(dialect, migrations, versionTable));
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw new EvidentError('ENVIRONMENT', `cannot open PostgreSQL datastore: ${(e as Error).message}`, { cause: e });
  }
  return dialect;
}
