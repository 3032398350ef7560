import { renderMigrations } from './ddl.js';
import { SQLITE_TYPES } from './sqlite-dialect.js';

/** The SQLite DDL of each migration in schema.ts, one script each (tests build databases of an older schema from it). */
export const SQLITE_MIGRATIONS: readonly string[] = renderMigrations(SQLITE_TYPES).map((statements) => statements.join(';\n'));
