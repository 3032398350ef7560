import { compareGenericVersion, parseGenericVersion } from './generic-version.js';
import { compareSemver, parseSemver } from './semver.js';

/** How versions of one range compare: parse to a value (undefined when not a version), then order. */
export interface VersionOrder {
  name: string;
  parse(version: string): unknown;
  compare(a: unknown, b: unknown): number;
}

const SEMVER: VersionOrder = {
  name: 'SemVer',
  parse: (v) => parseSemver(v),
  compare: (a, b) => compareSemver(a as never, b as never),
};

/** Go module versions are SemVer with a leading v (OSV's Go entries write them without it; accept both). */
const GO: VersionOrder = {
  name: 'Go (SemVer)',
  parse: (v) => parseSemver(v.replace(/^v/, '')),
  compare: SEMVER.compare,
};

const GENERIC: VersionOrder = {
  name: 'dotted-numeric',
  parse: (v) => parseGenericVersion(v),
  compare: (a, b) => compareGenericVersion(a as never, b as never),
};

/** Ecosystems whose versions are SemVer by the ecosystem's own rules. */
const SEMVER_ECOSYSTEMS = new Set(['npm', 'crates.io', 'Hex', 'Pub', 'SwiftURL']);

/**
 * The order of a range: SEMVER ranges always use SemVer precedence; ECOSYSTEM ranges use the
 * ecosystem's order where it is SemVer, and the documented dotted-numeric order (generic-version.ts)
 * for `generic` and every other ecosystem (an approximation for Debian, PyPI, Maven and the like).
 */
export function versionOrder(type: 'SEMVER' | 'ECOSYSTEM', ecosystem: string): VersionOrder {
  if (type === 'SEMVER') return SEMVER;
  const base = ecosystem.split(':')[0] ?? '';
  if (base === 'Go') return GO;
  if (SEMVER_ECOSYSTEMS.has(base)) return SEMVER;
  return GENERIC;
}
