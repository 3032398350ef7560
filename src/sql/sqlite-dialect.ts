import type Database from 'better-sqlite3';
import type { ColumnTypes } from './ddl.js';
import type { Dialect, Row, Statement, TxBody } from './dialect.js';

/** SQLite has no BIGINT or BOOLEAN: its INTEGER holds 64 bits, and booleans are 0 and 1. */
export const SQLITE_TYPES: ColumnTypes = { text: 'TEXT', int32: 'INTEGER', int64: 'INTEGER', bool: 'INTEGER', bytes: 'BLOB' };

/**
 * better-sqlite3 is synchronous and each statement is short, so the async methods only wrap it. One
 * connection; prepared statements are kept by their SQL text (the verbs' SQL is a small fixed set).
 */
export class SqliteDialect implements Dialect {
  readonly kind = 'sqlite';
  readonly types = SQLITE_TYPES;
  readonly forUpdate = '';
  // BEGIN IMMEDIATE takes the database's write lock: another process migrating waits for it
  readonly migrationLock = undefined;
  private readonly prepared = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  async all(s: Statement): Promise<Row[]> {
    return this.statement(s.sql).all(...bind(s.args)) as Row[];
  }

  async run(s: Statement): Promise<number> {
    return this.statement(s.sql).run(...bind(s.args)).changes;
  }

  async transaction<T>(body: TxBody<T>): Promise<T> {
    return this.transactionSync(body);
  }

  /** Runs a transaction body to its end before returning: nothing else can run on the connection meanwhile. */
  transactionSync<T>(body: TxBody<T>): T {
    return this.db
      .transaction(() => {
        let step = body.next();
        while (!step.done) step = body.next(this.execute(step.value));
        return step.value;
      })
      .immediate();
  }

  isUniqueViolation(e: unknown): boolean {
    const code = (e as { code?: unknown } | undefined)?.code;
    return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
  }

  async close(): Promise<void> {
    this.db.close();
  }

  private execute(s: Statement): Row[] {
    const st = this.statement(s.sql);
    if (st.reader) return st.all(...bind(s.args)) as Row[];
    st.run(...bind(s.args));
    return [];
  }

  private statement(text: string): Database.Statement {
    let st = this.prepared.get(text);
    if (st === undefined) {
      st = this.db.prepare(text);
      this.prepared.set(text, st);
    }
    return st;
  }
}

/** better-sqlite3 refuses JavaScript booleans: they are stored as 0 and 1. */
function bind(args: readonly unknown[]): unknown[] {
  return args.map((v) => (typeof v === 'boolean' ? Number(v) : v));
}
