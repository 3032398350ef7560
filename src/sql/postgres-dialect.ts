import type pg from 'pg';
import type { ColumnTypes } from './ddl.js';
import { sql, type Dialect, type Row, type Statement, type TxBody } from './dialect.js';

export const POSTGRES_TYPES: ColumnTypes = { text: 'TEXT', int32: 'INTEGER', int64: 'BIGINT', bool: 'BOOLEAN', bytes: 'BYTEA' };

/**
 * A pool of connections several servers may share a database through. Single statements need no
 * transaction of their own: their row locks make racing servers agree (see the verbs that rely on it).
 */
export class PostgresDialect implements Dialect {
  readonly kind = 'postgres';
  readonly types = POSTGRES_TYPES;
  readonly forUpdate = ' FOR UPDATE';
  // a transaction-scoped lock any evident server migrating this database takes first
  readonly migrationLock = sql('SELECT pg_advisory_xact_lock(7208311)');

  constructor(private readonly pool: pg.Pool) {}

  async all(s: Statement): Promise<Row[]> {
    return (await this.pool.query(numbered(s.sql), [...s.args])).rows as Row[];
  }

  async run(s: Statement): Promise<number> {
    return (await this.pool.query(numbered(s.sql), [...s.args])).rowCount ?? 0;
  }

  /** Runs a transaction body on one connection of the pool, committing when it returns and rolling back when it throws. */
  async transaction<T>(body: TxBody<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      let step = body.next();
      while (!step.done) step = body.next((await client.query(numbered(step.value.sql), [...step.value.args])).rows as Row[]);
      await client.query('COMMIT');
      return step.value;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  isUniqueViolation(e: unknown): boolean {
    return (e as { code?: unknown } | undefined)?.code === '23505';
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** `?` placeholders as PostgreSQL's `$1, $2, …`. The datastore's SQL has no `?` inside string literals or operators. */
function numbered(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}
