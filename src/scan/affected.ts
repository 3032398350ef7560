import type { OsvAffected, OsvEvent, OsvRange } from './osv.js';
import { versionOrder, type VersionOrder } from './version-order.js';

export interface AffectedResult {
  affected: boolean;
  /** The lowest `fixed` version above the scanned one, in a range that affects it; null when none is known. */
  fixedIn: string | null;
  /** Ranges that could not be evaluated for this version (not parseable in the range's order). */
  warnings: string[];
}

type Keyed = { event: OsvEvent; key: unknown; bottom: boolean; top: boolean };

function eventVersion(e: OsvEvent): string {
  return 'introduced' in e ? e.introduced : 'fixed' in e ? e.fixed : 'last_affected' in e ? e.last_affected : e.limit;
}

/**
 * Whether `version` is in one OSV range, by the evaluation the OSV schema gives: events sorted by
 * version (introduced "0" first); walking them, `introduced` at or below v turns "affected" on, `fixed`
 * at or below v turns it off (fixed is exclusive), `last_affected` below v turns it off (inclusive);
 * and when the range has `limit` events, v must be below one of them. `limit: "*"` means no limit.
 */
export function rangeAffects(range: OsvRange, order: VersionOrder, v: unknown): { affected: boolean; fixedIn: string | null } {
  const keyed: Keyed[] = range.events.map((event) => {
    const s = eventVersion(event);
    const bottom = 'introduced' in event && s === '0';
    const top = 'limit' in event && s === '*';
    return { event, bottom, top, key: bottom || top ? undefined : order.parse(s) };
  });
  // introduced "0" sorts below every version, limit "*" above every version
  const rank = (k: Keyed) => (k.bottom ? -1 : k.top ? 1 : 0);
  const cmp = (a: Keyed, b: Keyed) => (rank(a) !== rank(b) || rank(a) !== 0 ? rank(a) - rank(b) : order.compare(a.key, b.key));
  const sorted = keyed
    .map((k, i) => [k, i] as const)
    .sort(([a, i], [b, j]) => cmp(a, b) || i - j)
    .map(([k]) => k);
  const limits = sorted.filter((k) => 'limit' in k.event);
  if (limits.length > 0 && !limits.some((l) => l.top || order.compare(v, l.key) < 0)) return { affected: false, fixedIn: null };
  let affected = false;
  for (const k of sorted) {
    const e = k.event;
    if ('introduced' in e) {
      if (k.bottom || order.compare(v, k.key) >= 0) affected = true;
    } else if ('fixed' in e) {
      if (order.compare(v, k.key) >= 0) affected = false;
    } else if ('last_affected' in e) {
      if (order.compare(v, k.key) > 0) affected = false;
    }
  }
  if (!affected) return { affected, fixedIn: null };
  const fix = sorted.find((k) => 'fixed' in k.event && order.compare(v, k.key) < 0);
  return { affected, fixedIn: fix ? eventVersion(fix.event) : null };
}

/**
 * Whether `version` of a package is affected by one `affected[]` entry: listed in `versions`, or inside
 * any SEMVER or ECOSYSTEM range. GIT ranges name commits, which a version string cannot be placed among,
 * so they are not evaluated (feeds list the affected versions of GIT ranges in `versions`).
 *
 * Each range is evaluated on its own, in its own type's order (OSV schema): a SEMVER range of upstream
 * versions and an ECOSYSTEM range of a distribution's versions may both be present, and a fix of one
 * need not even parse in the order of the other.
 */
export function isAffected(entry: OsvAffected, version: string): AffectedResult {
  const warnings: string[] = [];
  let affected = entry.versions.includes(version);
  const fixes: { order: VersionOrder; fixed: string }[] = [];
  const ecosystem = entry.package?.ecosystem ?? '';
  for (const [i, range] of entry.ranges.entries()) {
    if (range.type === 'GIT') continue;
    const order = versionOrder(range.type, ecosystem);
    const v = order.parse(version);
    if (v === undefined) {
      warnings.push(`version '${version}' is not a ${order.name} version; ranges[${i}] (${range.type}) not evaluated`);
      continue;
    }
    const r = rangeAffects(range, order, v);
    if (r.affected) {
      affected = true;
      if (r.fixedIn !== null) fixes.push({ order, fixed: r.fixedIn });
    }
  }
  return { affected, fixedIn: affected ? lowestFix(fixes, versionOrder('ECOSYSTEM', ecosystem)) : null, warnings };
}

/**
 * The fix to report among those of the ranges that affect the version: the lowest, compared only with
 * fixes of the same order. When ranges of two orders name fixes, the ecosystem's own wins: its versions
 * are the ones the package is published under, what a user upgrades to.
 */
function lowestFix(fixes: readonly { order: VersionOrder; fixed: string }[], ecosystemOrder: VersionOrder): string | null {
  const lowestIn = (order: VersionOrder): string | undefined =>
    fixes
      .filter((f) => f.order === order)
      .map((f) => f.fixed)
      .reduce<string | undefined>(
        (low, fixed) => (low === undefined || order.compare(order.parse(fixed), order.parse(low)) < 0 ? fixed : low),
        undefined,
      );
  const preferred = lowestIn(ecosystemOrder);
  if (preferred !== undefined) return preferred;
  const other = fixes[0]?.order;
  return other === undefined ? null : (lowestIn(other) ?? null);
}
