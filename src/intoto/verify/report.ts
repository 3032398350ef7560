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
  const lines = report.checks.map((c) => `${mark(c)} ${c.step !== undefined ? `${c.step}: ` : ''}${oneLine(c.message)}`);
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

// A name in a message may hold a newline; one check must stay one line.
function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ');
}
