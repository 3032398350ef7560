import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { EvidentError } from '../errors.js';
import { readCycloneDx } from '../sbom/read-bom.js';
import { loadAdvisoryFeed } from '../scan/feed.js';
import { checkReport, findingLine, parseReport, reportStatement, serializeReport } from '../scan/report.js';
import { scanBom } from '../scan/scanner.js';
import { VULNS_PREDICATE_TYPE, vulnsStatement } from '../scan/vulns-attestation.js';
import type { ResourceDescriptor } from '../attestation/statement.js';
import { artifactDigest } from './store-options.js';
import type { ScanReport } from '../scan/report.js';
import { parseSeverityWord, SEVERITIES } from '../scan/severity.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { addAttestOptions, attestationSigner, signedAttestationText, type AttestFlags } from './attest-options.js';
import type { CliContext } from './context.js';

interface RunFlags extends AttestFlags {
  advisories: string;
  output?: string;
  format: string;
  attest?: boolean;
  subject?: string[];
}

/**
 * `evident scan run SBOM --advisories DIR [-o report.json] [--format report|statement]` matches an SBOM
 * against an OSV feed; `evident scan check REPORT [--fail-on high]` is the policy: exit 0 when no finding
 * is at or above the threshold, 1 (one line per finding) when some are, 2 for bad input.
 */
export function registerScan(program: Command, ctx: CliContext): void {
  const scan = program.command('scan').description('match an SBOM against OSV advisories and enforce a severity threshold');
  const run = scan
    .command('run')
    .description('match the components of a CycloneDX SBOM against an OSV advisory feed (a folder of OSV JSON files)')
    .argument('<sbom>', 'the CycloneDX JSON SBOM')
    .requiredOption('--advisories <dir>', 'folder of OSV advisories, one JSON file each')
    .option('-o, --output <file>', 'where to write the report (default: stdout)')
    .option('--format <format>', 'report (the scan report JSON) or statement (an in-toto Statement v1 of it)', 'report')
    .option(
      '--attest',
      `write an in-toto vulnerability attestation (${VULNS_PREDICATE_TYPE}) in a DSSE envelope, signed with -k or --spiffe-socket`,
    )
    .option(
      '--subject <file...>',
      "with --attest: the scanned artifacts, by their files' sha256 (default: the image digest the SBOM names)",
    );
  addAttestOptions(run).action(
    ctx.action(async (sbomFile: string, flags: RunFlags) => {
      if (flags.format !== 'report' && flags.format !== 'statement')
        throw new EvidentError('BAD_USAGE', `scan run: --format must be report or statement, not '${flags.format}'`);
      if (flags.attest && flags.format !== 'report')
        throw new EvidentError('BAD_USAGE', 'scan run: --attest writes its own format: drop --format');
      if (!flags.attest && [flags.key, flags.spiffeSocket, flags.subject, flags.timestampServer].some((f) => f !== undefined))
        throw new EvidentError('BAD_USAGE', 'scan run: -k, --spiffe-socket, --subject and --timestamp-server are for --attest');
      // the signer is asked for first: a missing key stops the scan before it reads anything
      const signer = flags.attest ? await attestationSigner(flags, ctx) : undefined;
      const startedOn = new Date();
      const bytes = await readFile(resolve(ctx.io.cwd, sbomFile));
      const bom = readCycloneDx(bytes.toString('utf8'), sbomFile);
      const feed = await loadAdvisoryFeed(resolve(ctx.io.cwd, flags.advisories), flags.advisories);
      const report = scanBom(bom, bytes, feed);
      for (const w of report.warnings) ctx.warn(w);
      let text: string;
      if (signer !== undefined) {
        const subject = await scannedSubjects(report, flags.subject ?? [], ctx);
        const feedUpdated = feed.advisories.map((a) => a.modified).sort((a, b) => Date.parse(b) - Date.parse(a))[0];
        const statement = vulnsStatement(report, subject, { startedOn, finishedOn: new Date(), feedUpdated });
        text = await signedAttestationText(statement, signer, flags, ctx);
      } else text = flags.format === 'statement' ? `${JSON.stringify(reportStatement(report), null, 2)}\n` : serializeReport(report);
      if (flags.output === undefined) ctx.io.stdout.write(text);
      else {
        await writeFileAtomic(resolve(ctx.io.cwd, flags.output), text);
        const s = report.summary;
        ctx.err(
          `${flags.output}: ${report.findings.length} finding${report.findings.length === 1 ? '' : 's'} in ${bom.packages.length} packages against ${feed.advisories.length} advisories (critical ${s.critical}, high ${s.high}, medium ${s.medium}, low ${s.low})`,
        );
      }
      return 0;
    }),
  );
  scan
    .command('check')
    .description('exit 1 if the scan report has a finding at or above a severity (the scan policy), else 0')
    .argument('<report>', 'a scan report, or an in-toto Statement of one')
    .option('--fail-on <severity>', `lowest severity that fails: ${SEVERITIES.join(', ')}`, 'high')
    .option('--json', 'print the result as JSON')
    .action(
      ctx.action(async (file: string, flags: { failOn: string; json?: boolean }) => {
        const threshold = parseSeverityWord(flags.failOn);
        if (threshold === undefined)
          throw new EvidentError(
            'BAD_USAGE',
            `scan check: --fail-on must be one of ${SEVERITIES.join(', ')} (or moderate), not '${flags.failOn}'`,
          );
        const report = parseReport(await readFile(resolve(ctx.io.cwd, file), 'utf8'), file);
        const result = checkReport(report, threshold);
        if (flags.json) {
          ctx.out(JSON.stringify({ report: file, passed: result.passed, threshold, failing: result.failing, below: result.below }));
        } else if (result.passed) {
          ctx.out(`✓ ${file}: no finding at or above ${threshold}${result.below > 0 ? ` (${result.below} below)` : ''}`);
        } else {
          for (const f of result.failing) ctx.out(findingLine(f));
          ctx.err(
            `evident: ${file}: ${result.failing.length} finding${result.failing.length === 1 ? '' : 's'} at or above ${threshold}: the scan policy fails`,
          );
        }
        return result.passed ? 0 : 1;
      }),
    );
}

/**
 * What a vulnerability attestation is about: each --subject file by its sha256, else the image digest the
 * SBOM names (its metadata.component). Neither: exit 2, an attestation about nothing cannot be matched.
 */
async function scannedSubjects(report: ScanReport, files: string[], ctx: CliContext): Promise<ResourceDescriptor[]> {
  if (files.length > 0) {
    const subjects: ResourceDescriptor[] = [];
    for (const file of files) subjects.push({ name: file, digest: { sha256: (await artifactDigest(file, ctx, '--subject')).slice(7) } });
    return subjects;
  }
  const digest = report.subject.digest;
  if (digest === undefined)
    throw new EvidentError(
      'BAD_INPUT',
      'scan run --attest: the SBOM names no image digest (metadata.component): name the scanned files with --subject',
    );
  return [{ name: report.subject.name, digest: { sha256: digest.sha256 } }];
}
