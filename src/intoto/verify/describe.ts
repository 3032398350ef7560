import type { ArtifactRule, HashDict } from '../models/types.js';
import type { ItemRulesResult, MatchMiss, RuleFailure } from '../rules/types.js';

/** Paths shown in one line before "and N more". */
const SHOWN = 3;
/** Paths and misses listed in a check's details. */
const DETAIL_LIMIT = 1000;

/** The rule as written, keywords upper case: `MATCH src/* WITH PRODUCTS FROM code`. */
export function ruleText(rule: ArtifactRule): string {
  if (rule.type !== 'MATCH') return `${rule.type} ${rule.pattern}`;
  const parts = ['MATCH', rule.pattern];
  if (rule.sourcePrefix) parts.push('IN', rule.sourcePrefix);
  parts.push('WITH', rule.destinationType.toUpperCase());
  if (rule.destinationPrefix) parts.push('IN', rule.destinationPrefix);
  parts.push('FROM', rule.destinationStep);
  return parts.join(' ');
}

/** One line for an item's rules: what passed, or exactly which rule and file broke. */
export function describeRules(result: ItemRulesResult): string {
  const head = `${result.type}:`;
  if (result.failure === undefined) {
    const n = result.results.length;
    if (n === 0) return `${head} no rules (${result.total} artifact${result.total === 1 ? '' : 's'})`;
    return `${head} ${n} rule${n === 1 ? '' : 's'} passed over ${result.total} artifact${result.total === 1 ? '' : 's'}${result.remaining > 0 ? ` (${result.remaining} not consumed)` : ''}`;
  }
  return `${head} ${describeFailure(result.failure)}`;
}

function describeFailure(failure: RuleFailure): string {
  switch (failure.kind) {
    case 'required':
      return `${ruleText(failure.rule)}: ${failure.path} ${failure.consumedBy ? `was already consumed by '${ruleText(failure.consumedBy)}'` : 'is not there'}`;
    case 'unresolvable':
      return `${ruleText(failure.rule)}: ${failure.path} does not map back to an artifact through the prefix`;
    case 'disallowed': {
      // A changed hash is the likeliest sign of tampering, so it is shown first.
      const first = failure.misses.find((m) => m.reason === 'hash-mismatch') ?? failure.misses[0];
      // The DISALLOW only fires; the MATCH that could not account for the file is the real story.
      if (first !== undefined) return `${ruleText(first.rule)}: ${describeMiss(first)}${more(failure.paths.length - 1, failure)}`;
      const shown = failure.paths.slice(0, SHOWN).join(', ');
      const extra = failure.paths.length - SHOWN;
      return `${ruleText(failure.rule)}: ${shown}${extra > 0 ? ` and ${extra} more` : ''} not allowed by any earlier rule`;
    }
  }
}

function more(others: number, failure: Extract<RuleFailure, { kind: 'disallowed' }>): string {
  if (others <= 0) return '';
  return ` (and ${others} more caught by ${ruleText(failure.rule)})`;
}

function describeMiss(miss: MatchMiss): string {
  const other = miss.rule.destinationStep;
  const kind = miss.rule.destinationType;
  switch (miss.reason) {
    case 'no-destination-link':
      return `${miss.path}: ${other} has no link to match against`;
    case 'not-in-destination':
      return `${miss.destinationPath} is not among ${other}'s ${kind}${miss.destinationPath === miss.path ? '' : ` (for ${miss.path})`}`;
    case 'hash-mismatch': {
      const [alg, found, expected] = firstDifference(miss.found, miss.expected!);
      const destination = miss.destinationPath === miss.path ? '' : ` (as ${miss.destinationPath})`;
      return `${miss.path}${destination} ${alg} ${short(found)} ≠ ${other}'s ${short(expected)}`;
    }
  }
}

/** The algorithm to show a difference with: sha256 when both have it, else the first that differs. */
function firstDifference(found: HashDict, expected: HashDict): [string, string, string] {
  const algs = [...new Set([...Object.keys(found), ...Object.keys(expected)])].sort((a, b) =>
    a === 'sha256' ? -1 : b === 'sha256' ? 1 : a < b ? -1 : 1,
  );
  for (const alg of algs) {
    if (found[alg] !== expected[alg]) return [alg, found[alg] ?? '(none)', expected[alg] ?? '(none)'];
  }
  return [algs[0] ?? 'sha256', '', ''];
}

function short(hex: string): string {
  return hex.length > 4 && hex !== '(none)' ? `${hex.slice(0, 4)}…` : hex;
}

/** Everything about a failure for the JSON report: full digests, every path. */
export function failureDetails(result: ItemRulesResult): Record<string, unknown> {
  const f = result.failure;
  const base = { type: result.type, total: result.total, remaining: result.remaining };
  if (f === undefined) return base;
  const rule = ruleText(f.rule);
  switch (f.kind) {
    case 'required':
      return { ...base, rule, path: f.path, ...(f.consumedBy ? { consumedBy: ruleText(f.consumedBy) } : {}) };
    case 'unresolvable':
      return { ...base, rule, path: f.path };
    case 'disallowed':
      return {
        ...base,
        rule,
        // a wholesale failure can name 10⁵ paths; the first thousand tell the story in a usable document
        paths: f.paths.slice(0, DETAIL_LIMIT),
        ...(f.paths.length > DETAIL_LIMIT ? { pathsOmitted: f.paths.length - DETAIL_LIMIT } : {}),
        ...(f.misses.length > DETAIL_LIMIT ? { missesOmitted: f.misses.length - DETAIL_LIMIT } : {}),
        misses: f.misses.slice(0, DETAIL_LIMIT).map((m) => ({
          rule: ruleText(m.rule),
          path: m.path,
          reason: m.reason,
          step: m.rule.destinationStep,
          destinationPath: m.destinationPath,
          found: m.found,
          ...(m.expected ? { expected: m.expected } : {}),
        })),
      };
  }
}
