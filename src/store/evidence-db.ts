import { join } from 'node:path';
import { EvidentError } from '../errors.js';
import { sql, type Dialect, type Row, type Statement, type TxBody } from '../sql/dialect.js';
import { openPostgresDialect, type PostgresOptions } from '../sql/open-postgres.js';
import { openSqliteDialect } from '../sql/open-sqlite.js';
import type { ArtifactRole, EvidenceFacts, EvidenceKind, EvidenceSigner } from './evidence.js';
import { STORE_MIGRATIONS, STORE_VERSION_TABLE } from './schema.js';

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

/** The evidence store's database: the same verbs over SQLite and PostgreSQL (sql/dialect.ts). */
export interface EvidenceDb {
  readonly kind: 'sqlite' | 'postgres';
  /** Stores the record unless its digest is stored already; whether this call stored it. */
  put(record: EvidenceRecord): Promise<boolean>;
  get(digest: string): Promise<Buffer | undefined>;
  getByGitoid(gitoid: string): Promise<Buffer | undefined>;
  /** Newest first; one more than `limit` when there is a next page. */
  search(query: EvidenceSearch): Promise<EvidenceSummary[]>;
  close(): Promise<void>;
}

/**
 * Opens the database a `--datastore` setting names: `sqlite` (default: one file in the data dir),
 * `sqlite:PATH`, or a `postgres://` / `postgresql://` URL, which several store instances may share.
 * SQLite syncs its WAL at every commit (synchronous=FULL): an acknowledged upload survives the
 * process being killed and the machine losing power.
 */
export async function openEvidenceDb(spec: string | undefined, dataDir: string | undefined, pg: PostgresOptions = {}): Promise<EvidenceDb> {
  const s = spec ?? 'sqlite';
  if (s === 'sqlite' || s.startsWith('sqlite:')) {
    if (s === 'sqlite' && dataDir === undefined) throw new EvidentError('BAD_USAGE', 'store: --data-dir DIR or --datastore URL is needed');
    const file = s === 'sqlite' ? join(dataDir!, STORE_SQLITE_FILE) : s.slice('sqlite:'.length);
    return evidenceDbOn(openSqliteDialect(file, STORE_MIGRATIONS, { versionTable: STORE_VERSION_TABLE, synchronous: 'FULL' }));
  }
  if (s.startsWith('postgres://') || s.startsWith('postgresql://')) {
    return evidenceDbOn(await openPostgresDialect(s, STORE_MIGRATIONS, pg, STORE_VERSION_TABLE));
  }
  throw new EvidentError('BAD_USAGE', `store: datastore '${s}' is neither 'sqlite' nor a postgres:// URL`);
}

/** Rows per multi-row INSERT: 3 parameters each stays far under both drivers' parameter limits. */
const ROWS_PER_INSERT = 300;

export function evidenceDbOn(db: Dialect): EvidenceDb {
  const body = async (s: Statement) => {
    const [row] = await db.all(s);
    return row === undefined ? undefined : Buffer.from(row.body as Uint8Array);
  };
  return {
    kind: db.kind,
    put: (record) => db.transaction(insertion(record)),
    get: (digest) => body(sql('SELECT body FROM evidence WHERE digest = ?', digest)),
    getByGitoid: (gitoid) => body(sql('SELECT body FROM evidence WHERE gitoid = ?', gitoid)),
    search: async (query) => (await db.all(searchStatement(query))).map(toSummary),
    close: () => db.close(),
  };
}

/** One transaction: the evidence row, then its index rows, only when the row is new (duplicates change nothing). */
function* insertion(r: EvidenceRecord): TxBody<boolean> {
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
