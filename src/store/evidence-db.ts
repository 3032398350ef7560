import { join } from 'node:path';
import { EvidentError } from '../errors.js';
import { sql, type Dialect, type Row, type Statement, type TxBody } from '../sql/dialect.js';
import { GroupCommit } from '../sql/group-commit.js';
import { openPostgresDialect, type PostgresOptions } from '../sql/open-postgres.js';
import { openSqliteDialect } from '../sql/open-sqlite.js';
import type { SqliteDialect } from '../sql/sqlite-dialect.js';
import type { ArtifactRole, EvidenceFacts, EvidenceKind, EvidenceSigner } from './evidence.js';
import { STORE_MIGRATIONS, STORE_VERSION_TABLE } from './schema.js';
import { SqliteEvidenceWriter } from './sqlite-writer.js';

/** The SQLite file in a store's data dir. */
export const STORE_SQLITE_FILE = 'evidence.sqlite3';

/** One piece of evidence to store: its bytes, their addresses, what was read from them, who sent it, when. */
export interface EvidenceRecord {
  readonly digest: string;
  readonly gitoid: string;
  readonly body: Uint8Array;
  readonly facts: EvidenceFacts;
  readonly uploader: string;
  readonly storedAt: number;
}

export interface EvidenceSearch {
  readonly digest?: string;
  readonly role?: ArtifactRole;
  readonly step?: string;
  readonly signer?: string;
  /** Milliseconds: stored at or after. */
  readonly since?: number;
  /** Milliseconds: stored before. */
  readonly until?: number;
  readonly limit: number;
  /** Where the previous page ended: items older than it. */
  readonly after?: { storedAt: number; digest: string };
}

export interface EvidenceSummary {
  readonly digest: string;
  readonly kind: EvidenceKind;
  readonly step?: string;
  readonly predicateType?: string;
  readonly signers: readonly EvidenceSigner[];
  readonly storedAt: number;
  readonly timestamps: number;
}

/** An artifact found by its file name, and the evidence that names it so. */
export interface NamedArtifact {
  readonly name: string;
  readonly artifact: string;
  readonly role: ArtifactRole;
  readonly step?: string;
}

/** The evidence store's database: the same verbs over SQLite and PostgreSQL (sql/dialect.ts). */
export interface EvidenceDb {
  readonly kind: 'sqlite' | 'postgres';
  /** Stores the record unless its digest is stored already; whether this call stored it. */
  put(record: EvidenceRecord): Promise<boolean>;
  get(digest: string): Promise<Buffer | undefined>;
  getByGitoid(gitoid: string): Promise<Buffer | undefined>;
  /** Newest first; one more than `limit` when there is a next page. */
  search(query: EvidenceSearch): Promise<EvidenceSummary[]>;
  /** Artifacts with this file name (the whole name, or its last part), newest evidence first. */
  findByName(name: string, limit: number): Promise<NamedArtifact[]>;
  close(): Promise<void>;
}

/**
 * Opens the database a `--datastore` setting names: `sqlite` (default: one file in the data dir),
 * `sqlite:PATH`, or a `postgres://` / `postgresql://` URL, which several store instances may share.
 * SQLite syncs its WAL at every commit (synchronous=FULL): an acknowledged upload survives the
 * process being killed and the machine losing power. Concurrent uploads share a commit (group-commit.ts),
 * which SQLite makes on a thread of its own (sqlite-writer.ts).
 */
export async function openEvidenceDb(spec: string | undefined, dataDir: string | undefined, pg: PostgresOptions = {}): Promise<EvidenceDb> {
  const s = spec ?? 'sqlite';
  if (s === 'sqlite' || s.startsWith('sqlite:')) {
    if (s === 'sqlite' && dataDir === undefined) throw new EvidentError('BAD_USAGE', 'store: --data-dir DIR or --datastore URL is needed');
    const file = s === 'sqlite' ? join(dataDir!, STORE_SQLITE_FILE) : s.slice('sqlite:'.length);
    const db = openStoreSqlite(file);
    if (file === ':memory:') return evidenceDbOn(db);
    try {
      return evidenceDbOn(db, await SqliteEvidenceWriter.start(file));
    } catch (e) {
      await db.close();
      throw e;
    }
  }
  if (s.startsWith('postgres://') || s.startsWith('postgresql://')) {
    return evidenceDbOn(await openPostgresDialect(s, STORE_MIGRATIONS, pg, STORE_VERSION_TABLE));
  }
  throw new EvidentError('BAD_USAGE', `store: datastore '${s}' is neither 'sqlite' nor a postgres:// URL`);
}

/**
 * How the store's SQLite connections are set beyond openSqliteDialect (none of it changes durability):
 * statement journals (a statement's undo within a transaction, written for every INSERT that may conflict)
 * in memory rather than in a temporary file; a 64 MiB page cache, which keeps the upper levels of the
 * indexes of random digests; and a checkpoint every 16 000 WAL pages (64 MiB) rather than 1 000, so that an
 * index page written by many commits is copied to the database file fewer times (bench/store.ts: +15 to
 * 40 % uploads/s; the WAL file stays at that size).
 */
export const STORE_SQLITE_PRAGMAS = ['temp_store = MEMORY', 'cache_size = -65536', 'wal_autocheckpoint = 16000'];

/** A connection to the store's SQLite file, migrated, WAL synced at every commit (synchronous=FULL). */
export function openStoreSqlite(file: string): SqliteDialect {
  return openSqliteDialect(file, STORE_MIGRATIONS, {
    versionTable: STORE_VERSION_TABLE,
    synchronous: 'FULL',
    pragmas: STORE_SQLITE_PRAGMAS,
  });
}

/** Rows per multi-row INSERT: 3 parameters each stays far under both drivers' parameter limits. */
const ROWS_PER_INSERT = 300;
/** The same for 5 parameters a row. */
const ROWS_PER_NAME_INSERT = 180;

/** The last part of a file name (`src/main.c` → `main.c`): what a search by name matches besides the whole name. */
function baseName(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}

/** Where a batch of records is written in one transaction, when not over the reading connection (sqlite-writer.ts). */
export interface BatchWriter {
  write(records: readonly EvidenceRecord[]): Promise<boolean[]>;
  close(): Promise<void>;
}

export function evidenceDbOn(db: Dialect, writer?: BatchWriter): EvidenceDb {
  // uploads arriving together are written in one transaction, one sync for all of them, each answered after it
  const writes = new GroupCommit<EvidenceRecord, boolean>((records) =>
    writer !== undefined ? writer.write(records) : db.transaction(batchInsertion(records)),
  );
  const body = async (s: Statement) => {
    const [row] = await db.all(s);
    return row === undefined ? undefined : Buffer.from(row.body as Uint8Array);
  };
  return {
    kind: db.kind,
    put: (record) => writes.submit(record),
    get: (digest) => body(sql('SELECT body FROM evidence WHERE digest = ?', digest)),
    getByGitoid: (gitoid) => body(sql('SELECT body FROM evidence WHERE gitoid = ?', gitoid)),
    search: async (query) => (await db.all(searchStatement(query))).map(toSummary),
    findByName: async (name, limit) =>
      (
        await db.all(
          sql(
            `SELECT DISTINCT n.name, n.artifact, n.role, e.step, e.stored_at FROM evidence_names n JOIN evidence e ON e.digest = n.evidence
             WHERE n.base = ? AND (n.name = ? OR n.base = ?) ORDER BY e.stored_at DESC LIMIT ?`,
            baseName(name),
            name,
            name,
            limit,
          ),
        )
      ).map((r) => ({
        name: r.name as string,
        artifact: r.artifact as string,
        role: r.role as ArtifactRole,
        ...(r.step !== null ? { step: r.step as string } : {}),
      })),
    close: async () => {
      await writes.close();
      await writer?.close();
      await db.close();
    },
  };
}

/**
 * Several uploads in one transaction, each as insertion() writes it: a digest given twice is stored by the
 * first (created) and changes nothing for the second. In digest order, so that two store instances sharing
 * a PostgreSQL database lock rows in the same order and their batches cannot deadlock (the sort is stable).
 */
export function* batchInsertion(records: readonly EvidenceRecord[]): TxBody<boolean[]> {
  const created: boolean[] = [];
  const order = records.map((_, i) => i).sort((a, b) => compare(records[a]!.digest, records[b]!.digest));
  for (const i of order) created[i] = yield* insertion(records[i]!);
  return created;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * One upload: the evidence row, then its index rows, only when the row is new (duplicates change nothing).
 * Exported for bench/store.ts, whose bare-SQLite baseline writes exactly these statements.
 */
export function* insertion(r: EvidenceRecord): TxBody<boolean> {
  const f = r.facts;
  const [inserted] = yield sql(
    `INSERT INTO evidence (digest, gitoid, kind, body, size, step, predicate_type, signers, timestamps, uploader, stored_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (digest) DO NOTHING RETURNING digest`,
    r.digest,
    r.gitoid,
    f.kind,
    Buffer.from(r.body.buffer, r.body.byteOffset, r.body.byteLength),
    r.body.byteLength,
    f.step ?? null,
    f.predicateType ?? null,
    JSON.stringify(f.signers),
    f.timestamps,
    r.uploader,
    r.storedAt,
  );
  if (inserted === undefined) return false;
  // the same digest may stand for several artifacts (two files of equal content): indexed once per role
  const artifacts = unique(f.artifacts.map((a) => `${a.role}\n${a.digest}`)).map((k) => k.split('\n') as [string, string]);
  for (let i = 0; i < artifacts.length; i += ROWS_PER_INSERT) {
    const rows = artifacts.slice(i, i + ROWS_PER_INSERT);
    yield sql(
      `INSERT INTO evidence_artifacts (artifact, role, evidence) VALUES ${rows.map(() => '(?, ?, ?)').join(', ')}`,
      ...rows.flatMap(([role, digest]) => [digest, role, r.digest]),
    );
  }
  const named = unique(f.artifacts.flatMap((a) => (a.name === undefined ? [] : [`${a.name}\n${a.role}\n${a.digest}`]))).map(
    (k) => k.split('\n') as [string, string, string],
  );
  for (let i = 0; i < named.length; i += ROWS_PER_NAME_INSERT) {
    const rows = named.slice(i, i + ROWS_PER_NAME_INSERT);
    yield sql(
      `INSERT INTO evidence_names (name, base, artifact, role, evidence) VALUES ${rows.map(() => '(?, ?, ?, ?, ?)').join(', ')}`,
      ...rows.flatMap(([name, role, digest]) => [name, baseName(name), digest, role, r.digest]),
    );
  }
  const signers = unique(f.signers.flatMap((s) => (s.spiffeId === undefined ? [s.keyid] : [s.keyid, s.spiffeId])).filter((s) => s !== ''));
  if (signers.length > 0) {
    yield sql(
      `INSERT INTO evidence_signers (signer, evidence) VALUES ${signers.map(() => '(?, ?)').join(', ')}`,
      ...signers.flatMap((s) => [s, r.digest]),
    );
  }
  return true;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/**
 * Newest first, ties by digest, so a page ends at a (stored_at, digest) the next one starts below. The
 * artifact and signer filters are `IN (subquery)` over their unique indexes: both planners drive the
 * search from the few rows of one artifact or signer rather than scanning evidence by time.
 */
function searchStatement(q: EvidenceSearch): Statement {
  const where: string[] = [];
  const args: unknown[] = [];
  if (q.digest !== undefined) {
    where.push(`digest IN (SELECT evidence FROM evidence_artifacts WHERE artifact = ?${q.role !== undefined ? ' AND role = ?' : ''})`);
    args.push(q.digest, ...(q.role !== undefined ? [q.role] : []));
  }
  if (q.signer !== undefined) {
    where.push('digest IN (SELECT evidence FROM evidence_signers WHERE signer = ?)');
    args.push(q.signer);
  }
  if (q.step !== undefined) {
    where.push('step = ?');
    args.push(q.step);
  }
  if (q.since !== undefined) {
    where.push('stored_at >= ?');
    args.push(q.since);
  }
  if (q.until !== undefined) {
    where.push('stored_at < ?');
    args.push(q.until);
  }
  if (q.after !== undefined) {
    where.push('(stored_at < ? OR (stored_at = ? AND digest < ?))');
    args.push(q.after.storedAt, q.after.storedAt, q.after.digest);
  }
  const cond = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
  return sql(
    `SELECT digest, kind, step, predicate_type, signers, timestamps, stored_at FROM evidence${cond}
     ORDER BY stored_at DESC, digest DESC LIMIT ?`,
    ...args,
    q.limit + 1,
  );
}

function toSummary(r: Row): EvidenceSummary {
  return {
    digest: r.digest as string,
    kind: r.kind as EvidenceKind,
    ...(r.step !== null ? { step: r.step as string } : {}),
    ...(r.predicate_type !== null ? { predicateType: r.predicate_type as string } : {}),
    signers: JSON.parse(r.signers as string) as EvidenceSigner[],
    storedAt: Number(r.stored_at),
    timestamps: Number(r.timestamps),
  };
}
