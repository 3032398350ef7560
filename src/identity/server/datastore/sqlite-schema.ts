import { renderMigrations } from '../../../sql/ddl.js';
import { SQLITE_TYPES } from '../../../sql/sqlite-dialect.js';
import { MIGRATIONS } from './schema.js';

/** The SQLite DDL of each migration in schema.ts, one script each (tests build databases of an older schema from it). */
export const SQLITE_MIGRATIONS: readonly string[] = renderMigrations(MIGRATIONS, SQLITE_TYPES).map((statements) => statements.join(';\n'));
