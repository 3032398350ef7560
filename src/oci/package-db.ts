import { EvidentError } from '../errors.js';

/**
 * The package database evident writes into an image, so a scanner can tell which software packages the
 * image holds without guessing from file names (as dpkg's status file or apk's installed db do for
 * distributions). One JSON document at PACKAGE_DB_PATH.
 */
export const PACKAGE_DB_PATH = '/var/lib/evident/packages.json';
export const PACKAGE_DB_SCHEMA = 'https://evident.dev/package-db/v1';

export interface PackageFile {
  path: string;
  sha256: string;
}

export interface PackageRecord {
  name: string;
  version: string;
  purl: string;
  files: PackageFile[];
}

export interface PackageDb {
  schema: typeof PACKAGE_DB_SCHEMA;
  packages: PackageRecord[];
}

/** Serializes with packages and files sorted, so the same packages give the same bytes. */
export function serializePackageDb(packages: readonly PackageRecord[]): string {
  const sorted = [...packages]
    .map((p) => ({
      name: p.name,
      version: p.version,
      purl: p.purl,
      files: [...p.files].sort((a, b) => cmp(a.path, b.path)).map((f) => ({ path: f.path, sha256: f.sha256 })),
    }))
    .sort((a, b) => cmp(a.name, b.name) || cmp(a.version, b.version) || cmp(a.purl, b.purl));
  const db: PackageDb = { schema: PACKAGE_DB_SCHEMA, packages: sorted };
  return `${JSON.stringify(db, null, 2)}\n`;
}

export function parsePackageDb(text: string, file = PACKAGE_DB_PATH): PackageDb {
  const bad = (msg: string) => new EvidentError('BAD_INPUT', `package database: ${msg}`, { file });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw bad(`malformed JSON: ${(e as Error).message}`);
  }
  const v = value as Partial<PackageDb> | null;
  if (typeof v !== 'object' || v === null || v.schema !== PACKAGE_DB_SCHEMA) throw bad(`schema must be '${PACKAGE_DB_SCHEMA}'`);
  if (!Array.isArray(v.packages)) throw bad('packages must be a list');
  const packages = v.packages.map((p, i) => {
    const ok =
      typeof p === 'object' &&
      p !== null &&
      typeof p.name === 'string' &&
      typeof p.version === 'string' &&
      typeof p.purl === 'string' &&
      Array.isArray(p.files) &&
      p.files.every(
        (f) =>
          typeof f === 'object' &&
          f !== null &&
          typeof f.path === 'string' &&
          typeof f.sha256 === 'string' &&
          /^[0-9a-f]{64}$/.test(f.sha256),
      );
    if (!ok) throw bad(`packages[${i}] must have name, version, purl (strings) and files [{path, sha256}]`);
    return { name: p.name, version: p.version, purl: p.purl, files: p.files.map((f) => ({ path: f.path, sha256: f.sha256 })) };
  });
  return { schema: PACKAGE_DB_SCHEMA, packages };
}

/** Byte-wise comparison, independent of locale, so sorting is the same on every machine. */
export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
