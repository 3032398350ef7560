/**
 * Matching an SBOM against an OSV advisory feed (SEMVER, ECOSYSTEM and generic version ranges, CVSS v3
 * scores) and the severity policy a layout inspection applies to the scan report.
 */
export { parseSemver, compareSemver } from './semver.js';
export type { SemVer } from './semver.js';
export { parseGenericVersion, compareGenericVersion } from './generic-version.js';
export { versionOrder } from './version-order.js';
export type { VersionOrder } from './version-order.js';
export { cvss3BaseScore, cvssRating } from './cvss.js';
export type { CvssResult } from './cvss.js';
export { SEVERITIES, parseSeverityWord, severityRank } from './severity.js';
export type { Severity } from './severity.js';
export { parseOsv } from './osv.js';
export type { OsvAdvisory, OsvAffected, OsvRange, OsvEvent, RangeType } from './osv.js';
export { isAffected, rangeAffects } from './affected.js';
export type { AffectedResult } from './affected.js';
export { packageMatches, componentPurl } from './match.js';
export { loadAdvisoryFeed } from './feed.js';
export type { AdvisoryFeed } from './feed.js';
export { scanBom } from './scanner.js';
export { SCANNER, SCAN_PREDICATE_TYPE, serializeReport, parseReport, reportStatement, checkReport, findingLine } from './report.js';
export type { Finding, ScanReport, CheckResult } from './report.js';
