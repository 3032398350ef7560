import { STATEMENT_TYPE, type Statement } from '../attestation/statement.js';
import { EvidentError } from '../errors.js';
import { parseSeverityWord, SEVERITIES, severityRank, type Severity } from './severity.js';

export const SCANNER = { name: 'evident-scan', version: '0.1.0' } as const;

/**
 * Our own predicate type for a vulnerability-scan report in an in-toto Statement: the predicate is the
 * ScanReport below, the subject the scanned image. (Not CycloneDX VEX, which states exploitability
 * analyses rather than scanner findings.)
 */
export const SCAN_PREDICATE_TYPE = 'https://evident.dev/scan/v1';

export interface Finding {
  package: string;
  version: string;
  purl: string | null;
  advisory: string;
  aliases: string[];
  severity: Severity;
  cvssScore?: number;
  summary: string;
  /** The first version that fixes it, when the advisory records one. */
  fixedIn: string | null;
}

export interface ScanReport {
  scanner: { name: string; version: string };
  subject: { name: string; digest?: { sha256: string } };
  sbom: { serialNumber?: string; sha256: string };
  advisories: { count: number; sha256: string };
  summary: Record<Severity, number>;
  findings: Finding[];
  warnings: string[];
}

export function serializeReport(report: ScanReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

export function reportStatement(report: ScanReport): Statement<ScanReport> {
  const digest = report.subject.digest;
  if (digest === undefined)
    throw new EvidentError('BAD_INPUT', 'scan: the SBOM names no image digest (metadata.component), so a statement has no subject');
  return {
    _type: STATEMENT_TYPE,
    subject: [{ name: report.subject.name, digest: { sha256: digest.sha256 } }],
    predicateType: SCAN_PREDICATE_TYPE,
    predicate: report,
  };
}

/** Reads a report, bare or as the predicate of a Statement of SCAN_PREDICATE_TYPE; checks what `check` relies on. */
export function parseReport(text: string, file?: string): ScanReport {
  const bad = (msg: string) => new EvidentError('BAD_INPUT', `scan report: ${msg}`, { file });
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw bad(`malformed JSON: ${(e as Error).message}`);
  }
  if (isObj(doc) && doc._type === STATEMENT_TYPE) {
    if (doc.predicateType !== SCAN_PREDICATE_TYPE) throw bad(`predicateType '${String(doc.predicateType)}' is not ${SCAN_PREDICATE_TYPE}`);
    doc = doc.predicate;
  }
  if (!isObj(doc) || !isObj(doc.scanner) || !Array.isArray(doc.findings))
    throw bad('not a scan report (scanner and findings are required)');
  const findings = doc.findings.map((f, i): Finding => {
    if (!isObj(f) || typeof f.package !== 'string' || typeof f.version !== 'string' || typeof f.advisory !== 'string') {
      throw bad(`findings[${i}] needs package, version and advisory`);
    }
    const severity = typeof f.severity === 'string' ? parseSeverityWord(f.severity) : undefined;
    if (severity === undefined) throw bad(`findings[${i}]: severity '${String(f.severity)}' is not one of ${SEVERITIES.join(', ')}`);
    return {
      package: f.package,
      version: f.version,
      purl: typeof f.purl === 'string' ? f.purl : null,
      advisory: f.advisory,
      aliases: Array.isArray(f.aliases) ? f.aliases.filter((a): a is string => typeof a === 'string') : [],
      severity,
      ...(typeof f.cvssScore === 'number' ? { cvssScore: f.cvssScore } : {}),
      summary: typeof f.summary === 'string' ? f.summary : '',
      fixedIn: typeof f.fixedIn === 'string' ? f.fixedIn : null,
    };
  });
  return { ...(doc as unknown as ScanReport), findings };
}

export interface CheckResult {
  passed: boolean;
  threshold: Severity;
  /** Findings at or above the threshold, in report order. */
  failing: Finding[];
  below: number;
}

/** The policy `scan check --fail-on` applies: no finding may be at or above the threshold. */
export function checkReport(report: ScanReport, threshold: Severity): CheckResult {
  const failing = report.findings.filter((f) => severityRank(f.severity) >= severityRank(threshold));
  return { passed: failing.length === 0, threshold, failing, below: report.findings.length - failing.length };
}

/** One line per failing finding: `✗ zlib 1.2.11: ADV-1 (critical) summary — fixed in 1.2.12`. */
export function findingLine(f: Finding): string {
  const aliases = f.aliases.length > 0 ? ` [${f.aliases.join(', ')}]` : '';
  const summary = f.summary !== '' ? ` ${f.summary}` : '';
  const fix = f.fixedIn !== null ? `fixed in ${f.fixedIn}` : 'no fixed version recorded';
  return `✗ ${f.package} ${f.version}: ${f.advisory}${aliases} (${f.severity})${summary} — ${fix}`;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
