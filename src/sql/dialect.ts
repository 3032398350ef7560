import type { ColumnTypes } from './ddl.js';

/** A row as a driver returns it: column name to value. */
export type Row = Record<string, unknown>;

/** One SQL statement, written with `?` placeholders (each dialect numbers them its own way), and its arguments. */
export interface Statement {
  readonly sql: string;
  readonly args: readonly unknown[];
}

export function sql(text: string, ...args: unknown[]): Statement {
  return { sql: text, args };
}

/**
 * The body of a transaction: it yields its statements one at a time and is handed back each one's rows.
 * A generator, so that one body serves both drivers: better-sqlite3 runs it synchronously (its
 * transactions cannot span an `await`, and a datastore opens synchronously), pg asynchronously.
 */
export type TxBody<T> = Generator<Statement, T, Row[]>;

/**
 * What the two backends differ in. A datastore's schema, migrations and verbs are written once over it
 * (identity/server/datastore, store/); sqlite-dialect.ts and postgres-dialect.ts implement it.
 */
export interface Dialect {
  readonly kind: 'sqlite' | 'postgres';
  readonly types: ColumnTypes;
  /** Appended to a SELECT in a transaction to lock the rows read; '' where the transaction already locks the database. */
  readonly forUpdate: string;
  /** Run first in the migration transaction so that servers starting together migrate one at a time, where the transaction alone does not. */
  readonly migrationLock: Statement | undefined;
  /** The rows a statement returns: a SELECT, or a write with RETURNING. */
  all(s: Statement): Promise<Row[]>;
  /** How many rows a write changed. */
  run(s: Statement): Promise<number>;
  transaction<T>(body: TxBody<T>): Promise<T>;
  /** Whether an error is a unique-constraint violation (a duplicate key or unique index value). */
  isUniqueViolation(e: unknown): boolean;
  close(): Promise<void>;
}
