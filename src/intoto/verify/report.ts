import type { Check, VerificationReport } from './types.js';

/** Collects checks in the order they are made. */
export class ReportBuilder {
  readonly checks: Check[] = [];

  add(check: Check): Check {
    this.checks.push(check);
    return check;
  }

  /** Whether anything failed so far (warnings and opted-out skips do not). */
  get failed(): boolean {
    return this.checks.some((c) => !c.ok);
  }

  finish(verifiedAt: Date, layout: string | undefined): VerificationReport {
    return {
      ok: this.checks.length > 0 && !this.failed,
      verifiedAt: verifiedAt.toISOString(),
      ...(layout !== undefined ? { layout } : {}),
      checks: this.checks,
    };
  }
}

/**
 * The report for people: one line per check, `✓` passed, `✗` failed, `!` a warning, `-` not performed,
 * then the verdict.
 *
 * @example
 * ✗ build: materials: MATCH src/* WITH PRODUCTS FROM code: src/main.c sha256 9f2c… ≠ code's 41aa…
 */
export function formatReport(report: VerificationReport): string {
  const lines = report.checks.flatMap((c) => [
    `${mark(c)} ${c.step !== undefined ? `${c.step}: ` : ''}${oneLine(c.message)}`,
    ...inspectionOutput(c),
  ]);
  lines.push(report.ok ? 'PASSED: the product followed its layout' : 'FAILED: the product is not trusted');
  return `${lines.join('\n')}\n`;
}

/** The report as a JSON document (`--json`). */
export function reportToJson(report: VerificationReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

function mark(c: Check): string {
  if (c.skipped) return '-';
  if (!c.ok) return '✗';
  return c.warning ? '!' : '✓';
}

/**
 * What a failed inspection printed, under its line: a policy check says there which package, version
 * and advisory failed it. At most 10 lines, each behind `  │ ` so no output can pass for a check line.
 */
function inspectionOutput(c: Check): string[] {
  const stdout = c.id === 'inspection' && !c.ok ? (c.details as { stdout?: unknown } | undefined)?.stdout : undefined;
  if (typeof stdout !== 'string') return [];
  const lines = stdout.split(/\r?\n/).filter((l) => l.trim() !== '');
  // eslint-disable-next-line no-control-regex -- control characters are what must not reach the terminal
  const shown = lines.slice(0, 10).map((l) => `  │ ${l.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 200)}`);
  if (lines.length > 10) shown.push(`  │ … ${lines.length - 10} more lines`);
  return shown;
}

// A name in a message may hold a newline; one check must stay one line.
function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ');
}
