import type { ColumnSpec, ColumnType, IndexDef, Migration, Step, TableDef } from './schema.js';

/** The SQL type a dialect stores each logical column type as. */
export type ColumnTypes = Readonly<Record<ColumnType, string>>;

/** Each migration as the DDL statements of a dialect, in order. */
export function renderMigrations(migrations: readonly Migration[], types: ColumnTypes): string[][] {
  return migrations.map((steps) => steps.map((step) => renderStep(step, types)));
}

function renderStep(step: Step, types: ColumnTypes): string {
  if ('createTable' in step) return createTable(step.createTable, types);
  if ('createIndex' in step) return createIndex(step.createIndex);
  const c = step.addColumn;
  return `ALTER TABLE ${c.table} ADD COLUMN ${c.name} ${types[c.type]} NOT NULL DEFAULT ${literal(c.default)}`;
}

function createTable(t: TableDef, types: ColumnTypes): string {
  const lines = Object.entries(t.columns).map(([name, spec]) => `${name} ${columnType(spec, name === t.primaryKey, types)}`);
  for (const cols of t.unique ?? []) lines.push(`UNIQUE (${cols.join(', ')})`);
  return `CREATE TABLE ${t.name} (\n  ${lines.join(',\n  ')})`;
}

/** A primary key is written without NOT NULL, as the first release wrote it (so new and upgraded databases match). */
function columnType(spec: ColumnSpec, primaryKey: boolean, types: ColumnTypes): string {
  const nullable = spec.endsWith('?');
  const type = types[(nullable ? spec.slice(0, -1) : spec) as ColumnType];
  return primaryKey ? `${type} PRIMARY KEY` : nullable ? type : `${type} NOT NULL`;
}

function createIndex(i: IndexDef): string {
  const where = i.where === undefined ? '' : ` WHERE ${i.where}`;
  return `CREATE ${i.unique ? 'UNIQUE ' : ''}INDEX ${i.name} ON ${i.table} (${i.columns.join(', ')})${where}`;
}

function literal(v: string | number): string {
  return typeof v === 'number' ? String(v) : `'${v.replaceAll(`'`, `''`)}'`;
}
