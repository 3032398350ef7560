import { EvidentError } from '../errors.js';
import { cvss3BaseScore } from './cvss.js';
import { parseSeverityWord, type Severity } from './severity.js';
import { versionOrder, type VersionOrder } from './version-order.js';

/**
 * OSV advisories (OSV schema 1.x), the fields a scanner uses, validated so a malformed record fails
 * loudly instead of silently matching nothing.
 */
export type RangeType = 'SEMVER' | 'ECOSYSTEM' | 'GIT';
export type OsvEvent = { introduced: string } | { fixed: string } | { last_affected: string } | { limit: string };

export interface OsvRange {
  type: RangeType;
  repo?: string;
  events: OsvEvent[];
}

export interface OsvAffected {
  package?: { ecosystem: string; name: string; purl?: string };
  ranges: OsvRange[];
  versions: string[];
}

export interface OsvAdvisory {
  id: string;
  modified: string;
  summary: string;
  aliases: string[];
  withdrawn?: string;
  affected: OsvAffected[];
  severity: Severity;
  /** The CVSS v3 base score, when the advisory carries a CVSS_V3 vector. */
  cvssScore?: number;
}

type Raw = Record<string, unknown>;
const EVENT_KEYS = ['introduced', 'fixed', 'last_affected', 'limit'] as const;

export function parseOsv(text: string, file?: string): OsvAdvisory {
  const bad = (msg: string) => new EvidentError('BAD_INPUT', `advisory: ${msg}`, { file });
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw bad(`malformed JSON: ${(e as Error).message}`);
  }
  if (!isObj(doc)) throw bad('an OSV record is a JSON object');
  if (typeof doc.schema_version === 'string' && !/^1\./.test(doc.schema_version))
    throw bad(`schema_version ${doc.schema_version} is not supported (1.x)`);
  if (typeof doc.id !== 'string' || doc.id === '') throw bad('id must be a non-empty string');
  const id = doc.id;
  if (typeof doc.modified !== 'string') throw bad(`${id}: modified must be an RFC 3339 time`);
  const aliases = stringList(doc.aliases, `${id}: aliases`, bad);
  if (doc.summary !== undefined && typeof doc.summary !== 'string') throw bad(`${id}: summary must be a string`);
  if (doc.affected !== undefined && !Array.isArray(doc.affected)) throw bad(`${id}: affected must be a list`);
  const affected = ((doc.affected as unknown[] | undefined) ?? []).map((a, i) => parseAffected(a, `${id}: affected[${i}]`, bad));
  const { severity, cvssScore } = parseSeverity(doc, id, bad);
  return {
    id,
    modified: doc.modified,
    summary: typeof doc.summary === 'string' ? doc.summary : typeof doc.details === 'string' ? (doc.details.split('\n')[0] ?? '') : '',
    aliases,
    ...(typeof doc.withdrawn === 'string' ? { withdrawn: doc.withdrawn } : {}),
    affected,
    severity,
    ...(cvssScore !== undefined ? { cvssScore } : {}),
  };
}

/** database_specific.severity if the advisory states one, else the rating of its CVSS v3 vector. */
function parseSeverity(doc: Raw, id: string, bad: (m: string) => Error): { severity: Severity; cvssScore?: number } {
  let cvssScore: number | undefined;
  let cvssSeverity: Severity | undefined;
  if (doc.severity !== undefined) {
    if (!Array.isArray(doc.severity)) throw bad(`${id}: severity must be a list of {type, score}`);
    for (const [i, s] of doc.severity.entries()) {
      if (!isObj(s) || typeof s.type !== 'string' || typeof s.score !== 'string') throw bad(`${id}: severity[${i}] must be {type, score}`);
      if (s.type !== 'CVSS_V3') continue; // CVSS_V2, CVSS_V4, Ubuntu: not scored here
      let r;
      try {
        r = cvss3BaseScore(s.score);
      } catch (e) {
        throw bad(`${id}: severity[${i}]: ${(e as Error).message}`);
      }
      cvssScore = r.score;
      cvssSeverity = r.rating === 'none' ? 'low' : r.rating;
    }
  }
  const ds = isObj(doc.database_specific) ? doc.database_specific.severity : undefined;
  if (ds !== undefined) {
    const word = typeof ds === 'string' ? parseSeverityWord(ds) : undefined;
    if (word === undefined)
      throw bad(`${id}: database_specific.severity '${String(ds)}' is not a severity (LOW, MODERATE or MEDIUM, HIGH, CRITICAL)`);
    return { severity: word, ...(cvssScore !== undefined ? { cvssScore } : {}) };
  }
  if (cvssSeverity === undefined) throw bad(`${id}: no severity: give database_specific.severity or a CVSS_V3 vector in severity[]`);
  return { severity: cvssSeverity, cvssScore: cvssScore as number };
}

function parseAffected(value: unknown, where: string, bad: (m: string) => Error): OsvAffected {
  if (!isObj(value)) throw bad(`${where} must be an object`);
  let pkg: OsvAffected['package'];
  if (value.package !== undefined) {
    const p = value.package;
    if (!isObj(p) || typeof p.ecosystem !== 'string' || typeof p.name !== 'string')
      throw bad(`${where}.package needs ecosystem and name (strings)`);
    if (p.purl !== undefined && (typeof p.purl !== 'string' || !p.purl.startsWith('pkg:')))
      throw bad(`${where}.package.purl must be a package URL`);
    pkg = { ecosystem: p.ecosystem, name: p.name, ...(typeof p.purl === 'string' ? { purl: p.purl } : {}) };
  }
  const versions = stringList(value.versions, `${where}.versions`, bad);
  if (value.ranges !== undefined && !Array.isArray(value.ranges)) throw bad(`${where}.ranges must be a list`);
  const ranges = ((value.ranges as unknown[] | undefined) ?? []).map((r, i) =>
    parseRange(r, `${where}.ranges[${i}]`, pkg?.ecosystem ?? '', bad),
  );
  return { ...(pkg ? { package: pkg } : {}), ranges, versions };
}

function parseRange(value: unknown, where: string, ecosystem: string, bad: (m: string) => Error): OsvRange {
  if (!isObj(value)) throw bad(`${where} must be an object`);
  const type = value.type;
  if (type !== 'SEMVER' && type !== 'ECOSYSTEM' && type !== 'GIT')
    throw bad(`${where}.type '${String(type)}' is not SEMVER, ECOSYSTEM or GIT`);
  if (type === 'GIT' && typeof value.repo !== 'string') throw bad(`${where}: a GIT range needs repo`);
  if (!Array.isArray(value.events) || value.events.length === 0) throw bad(`${where}.events must be a non-empty list`);
  const order: VersionOrder | undefined = type === 'GIT' ? undefined : versionOrder(type, ecosystem);
  const events = value.events.map((e, i): OsvEvent => {
    const keys = isObj(e) ? Object.keys(e) : [];
    const key = keys[0] as (typeof EVENT_KEYS)[number];
    if (!isObj(e) || keys.length !== 1 || !EVENT_KEYS.includes(key) || typeof e[key] !== 'string') {
      throw bad(`${where}.events[${i}] must be one of {introduced}, {fixed}, {last_affected}, {limit} with a string version`);
    }
    const v = e[key] as string;
    const special = (key === 'introduced' && v === '0') || (key === 'limit' && v === '*');
    if (order && !special && order.parse(v) === undefined) throw bad(`${where}.events[${i}].${key}: '${v}' is not a ${order.name} version`);
    return { [key]: v } as OsvEvent;
  });
  if (!events.some((e) => 'introduced' in e)) throw bad(`${where}: a range needs at least one introduced event`);
  if (events.some((e) => 'fixed' in e) && events.some((e) => 'last_affected' in e))
    throw bad(`${where}: a range may have fixed or last_affected events, not both`);
  return { type, ...(typeof value.repo === 'string' ? { repo: value.repo } : {}), events };
}

function stringList(value: unknown, where: string, bad: (m: string) => Error): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw bad(`${where} must be a list of strings`);
  return value as string[];
}

function isObj(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
