/**
 * A database schema described once for both dialects: tables, columns of a logical type, keys and
 * indexes, as ordered migrations of steps. `ddl.ts` renders a step in a dialect's SQL types; `migrate.ts`
 * runs the steps a database has not had. Each datastore (the identity server's, the evidence store's)
 * has its own list of migrations and its own version table.
 */

/** What a column holds; each dialect names the SQL type it is stored as (`Dialect.types`). */
export type ColumnType = 'text' | 'int32' | 'int64' | 'bool' | 'bytes';

/** A column's type, with `?` when it may be NULL (all others are NOT NULL). */
export type ColumnSpec = ColumnType | `${ColumnType}?`;

export interface TableDef {
  name: string;
  /** The one-column primary key; tables keyed by a UNIQUE column set instead leave it out. */
  primaryKey?: string;
  /** Column name to type, in table order; the primary key among them. */
  columns: Record<string, ColumnSpec>;
  /** Column sets whose values no two rows share. */
  unique?: string[][];
}

export interface IndexDef {
  name: string;
  table: string;
  columns: string[];
  unique?: boolean;
  /** A partial index's condition (SQL both dialects read alike). */
  where?: string;
}

/** A NOT NULL column added to an existing table; existing rows get `default`. */
export interface AddedColumn {
  table: string;
  name: string;
  type: ColumnType;
  default: string | number;
}

export type Step = { createTable: TableDef } | { createIndex: IndexDef } | { addColumn: AddedColumn };

/** One migration: the steps that bring a database from one version to the next, in one transaction. */
export type Migration = readonly Step[];
