import type { ScanReport } from './report.js';
import { STATEMENT_TYPE, type ResourceDescriptor, type Statement } from '../attestation/statement.js';

/**
 * The in-toto vulnerability predicate, version 0.2 (in-toto/attestation spec/predicates/vulns_02.md;
 * v0.1 nested each result under `vulnerability`, v0.2 puts `id` and `severity` on the result itself).
 */
export const VULNS_PREDICATE_TYPE = 'https://in-toto.io/attestation/vulns/v0.2';

/** How evident states a finding's severity: `osv` is the word from the advisory, `cvss_score` its CVSS base score. */
export const SEVERITY_METHOD = 'osv';

export interface VulnsResult {
  id: string;
  severity: { method: string; score: string }[];
  /** One map: the package and version found vulnerable, the purl, aliases, the fixing version, the summary. */
  annotations: Record<string, unknown>[];
}

export interface VulnsPredicate {
  scanner: {
    uri: string;
    version: string;
    db: { uri: string; version: string; lastUpdate: string };
    result: VulnsResult[];
  };
  metadata: { scanStartedOn: string; scanFinishedOn: string };
}

/**
 * A scan report as a vulns v0.2 Statement about `subject` (the scanned artifacts). The db is the advisory
 * feed: its version the feed's digest, its lastUpdate the newest `modified` among its advisories (the scan
 * time when the feed is empty).
 */
export function vulnsStatement(
  report: ScanReport,
  subject: ResourceDescriptor[],
  times: { startedOn: Date; finishedOn: Date; feedUpdated?: string },
): Statement<VulnsPredicate> {
  const result = report.findings.map((f): VulnsResult => ({
    id: f.advisory,
    severity: [
      { method: SEVERITY_METHOD, score: f.severity },
      ...(f.cvssScore !== undefined ? [{ method: 'cvss_score', score: String(f.cvssScore) }] : []),
    ],
    annotations: [
      {
        package: f.package,
        version: f.version,
        ...(f.purl !== null ? { purl: f.purl } : {}),
        aliases: f.aliases,
        fixedIn: f.fixedIn,
        summary: f.summary,
      },
    ],
  }));
  return {
    _type: STATEMENT_TYPE,
    subject,
    predicateType: VULNS_PREDICATE_TYPE,
    predicate: {
      scanner: {
        uri: `pkg:generic/${report.scanner.name}@${report.scanner.version}`,
        version: report.scanner.version,
        db: {
          uri: `urn:evident:osv-feed:sha256:${report.advisories.sha256}`,
          version: `sha256:${report.advisories.sha256}`,
          lastUpdate: utcTimestamp(times.feedUpdated) ?? times.startedOn.toISOString(),
        },
        result,
      },
      metadata: { scanStartedOn: times.startedOn.toISOString(), scanFinishedOn: times.finishedOn.toISOString() },
    },
  };
}

/**
 * An advisory's `modified` as the in-toto Timestamp a vulns predicate needs (RFC 3339 in UTC, `Z`): OSV allows
 * an offset (`2024-01-02T04:04:05+01:00`), the predicate does not. Undefined for a time that cannot be read.
 */
function utcTimestamp(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const time = new Date(text);
  return Number.isNaN(time.getTime()) ? undefined : time.toISOString();
}
