import { createHash } from 'node:crypto';
import { cmp } from '../oci/package-db.js';
import type { BomSummary } from '../sbom/read-bom.js';
import { isAffected } from './affected.js';
import type { AdvisoryFeed } from './feed.js';
import { componentPurl, packageMatches } from './match.js';
import type { Finding, ScanReport } from './report.js';
import { SCANNER } from './report.js';
import { SEVERITIES, severityRank } from './severity.js';

/**
 * Matches every package of a BOM against every advisory of a feed (withdrawn advisories excepted) and
 * returns the report: one finding per package and advisory, sorted most severe first, then by package,
 * version and advisory id; no timestamps, so the same BOM and feed give the same bytes.
 */
export function scanBom(bom: BomSummary, bomBytes: Uint8Array | string, feed: AdvisoryFeed): ScanReport {
  const findings: Finding[] = [];
  const warnings = new Set<string>();
  for (const pkg of bom.packages) {
    const purl = componentPurl(pkg.name, pkg.purl);
    for (const adv of feed.advisories) {
      if (adv.withdrawn !== undefined) continue;
      let hit: { fixedIn: string | null } | undefined;
      for (const entry of adv.affected) {
        if (!packageMatches(entry, purl)) continue;
        const r = isAffected(entry, pkg.version);
        for (const w of r.warnings) warnings.add(`${pkg.name} ${pkg.version}: ${adv.id}: ${w}`);
        if (r.affected && (hit === undefined || (hit.fixedIn === null && r.fixedIn !== null))) hit = { fixedIn: r.fixedIn };
      }
      if (!hit) continue;
      findings.push({
        package: pkg.name,
        version: pkg.version,
        purl: pkg.purl ?? null,
        advisory: adv.id,
        aliases: [...adv.aliases].sort(),
        severity: adv.severity,
        ...(adv.cvssScore !== undefined ? { cvssScore: adv.cvssScore } : {}),
        summary: adv.summary,
        fixedIn: hit.fixedIn,
      });
    }
  }
  findings.sort(
    (a, b) =>
      severityRank(b.severity) - severityRank(a.severity) ||
      cmp(a.package, b.package) ||
      cmp(a.version, b.version) ||
      cmp(a.advisory, b.advisory),
  );
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, findings.filter((f) => f.severity === s).length])) as ScanReport['summary'];
  return {
    scanner: SCANNER,
    subject: bom.subject,
    sbom: {
      ...(bom.serialNumber !== undefined ? { serialNumber: bom.serialNumber } : {}),
      sha256: createHash('sha256').update(bomBytes).digest('hex'),
    },
    advisories: { count: feed.advisories.length, sha256: feed.digest },
    summary: counts,
    findings,
    warnings: [...warnings].sort(),
  };
}
