/** Severities of findings, lowest first; OSV/GitHub's MODERATE is MEDIUM. */
export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** A severity word as advisories and users write it; undefined when it is not one. */
export function parseSeverityWord(word: string): Severity | undefined {
  const w = word.trim().toLowerCase();
  if (w === 'moderate') return 'medium';
  return (SEVERITIES as readonly string[]).includes(w) ? (w as Severity) : undefined;
}

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}
