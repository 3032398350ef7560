import { sql, type Dialect, type Row, type Statement } from '../../../sql/dialect.js';
import { tableDef } from './schema.js';

/**
 * The verbs every table has, as SQL built from column names and written once for both dialects: a
 * store passes its columns as an object (column name to value) and gets its records back through
 * `fromRow`. The key is the table's primary key in schema.ts.
 */
export class Table<T> {
  private readonly key: string;

  constructor(
    readonly db: Dialect,
    private readonly name: string,
    private readonly fromRow: (r: Row) => T,
  ) {
    this.key = tableDef(name).primaryKey;
  }

  /** The records a statement returns. */
  async rows(s: Statement): Promise<T[]> {
    return (await this.db.all(s)).map(this.fromRow);
  }

  /** Inserts a row; the record as stored. */
  async insert(values: Row): Promise<T> {
    const cols = Object.keys(values);
    const insert = `INSERT INTO ${this.name} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')}) RETURNING *`;
    return (await this.rows(sql(insert, ...Object.values(values))))[0]!;
  }

  async get(key: unknown): Promise<T | undefined> {
    return (await this.rows(sql(`SELECT * FROM ${this.name} WHERE ${this.key} = ?`, key)))[0];
  }

  /** The records whose columns equal `where`'s values (undefined ones are not compared), ordered by `orderBy`. */
  async select(where: Row, orderBy: string): Promise<T[]> {
    const compared = Object.entries(where).filter(([, v]) => v !== undefined);
    const cond = compared.length ? ` WHERE ${compared.map(([c]) => `${c} = ?`).join(' AND ')}` : '';
    return this.rows(sql(`SELECT * FROM ${this.name}${cond} ORDER BY ${orderBy}`, ...compared.map(([, v]) => v)));
  }

  /** Sets columns of the row with this key, and the SQL assignments of `also`; the record as it then is, or undefined. */
  async update(key: unknown, values: Row, also: string[] = []): Promise<T | undefined> {
    const set = [...Object.keys(values).map((c) => `${c} = ?`), ...also].join(', ');
    return (await this.rows(sql(`UPDATE ${this.name} SET ${set} WHERE ${this.key} = ? RETURNING *`, ...Object.values(values), key)))[0];
  }

  async delete(key: unknown): Promise<boolean> {
    return (await this.db.run(sql(`DELETE FROM ${this.name} WHERE ${this.key} = ?`, key))) > 0;
  }

  /** Deletes the rows a condition holds for; how many. */
  async deleteWhere(condition: string, ...args: unknown[]): Promise<number> {
    return this.db.run(sql(`DELETE FROM ${this.name} WHERE ${condition}`, ...args));
  }

  async count(): Promise<number> {
    return Number((await this.db.all(sql(`SELECT COUNT(*) AS n FROM ${this.name}`)))[0]!.n);
  }

  /** A write's result, or what `onDuplicate` makes of the error when the write broke a unique constraint. */
  async unlessDuplicate<R>(write: Promise<R>, onDuplicate: (e: unknown) => R): Promise<R> {
    try {
      return await write;
    } catch (e) {
      if (this.db.isUniqueViolation(e)) return onDuplicate(e);
      throw e;
    }
  }
}

/** A boolean column's value: SQLite returns 0 or 1, PostgreSQL a boolean. */
export function bool(v: unknown): boolean {
  return v === true || Number(v) === 1;
}
