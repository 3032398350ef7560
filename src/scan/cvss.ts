import { EvidentError } from '../errors.js';

/**
 * CVSS v3.0/v3.1 base score from a vector string (FIRST's CVSS v3.1 specification, §7.1 and Appendix A):
 * the eight base metrics are required, temporal and environmental metrics are accepted and ignored.
 */
export interface CvssResult {
  version: '3.0' | '3.1';
  score: number;
  /** The qualitative rating of the score (none, low, medium, high, critical). */
  rating: 'none' | 'low' | 'medium' | 'high' | 'critical';
}

const WEIGHTS: Record<string, Record<string, number>> = {
  AV: { N: 0.85, A: 0.62, L: 0.55, P: 0.2 },
  AC: { L: 0.77, H: 0.44 },
  PR: { N: 0.85, L: 0.62, H: 0.27 },
  UI: { N: 0.85, R: 0.62 },
  S: { U: 0, C: 1 },
  C: { H: 0.56, L: 0.22, N: 0 },
  I: { H: 0.56, L: 0.22, N: 0 },
  A: { H: 0.56, L: 0.22, N: 0 },
};
const OPTIONAL = new Set(['E', 'RL', 'RC', 'CR', 'IR', 'AR', 'MAV', 'MAC', 'MPR', 'MUI', 'MS', 'MC', 'MI', 'MA']);

/** Round up to one decimal as v3.1 Appendix A defines it, immune to floating-point artefacts. */
function roundUp31(value: number): number {
  const intInput = Math.round(value * 100000);
  return intInput % 10000 === 0 ? intInput / 100000 : (Math.floor(intInput / 10000) + 1) / 10;
}

function roundUp30(value: number): number {
  return Math.ceil(value * 10) / 10;
}

export function cvssRating(score: number): CvssResult['rating'] {
  if (score === 0) return 'none';
  if (score < 4) return 'low';
  if (score < 7) return 'medium';
  if (score < 9) return 'high';
  return 'critical';
}

export function cvss3BaseScore(vector: string): CvssResult {
  const bad = (msg: string) => new EvidentError('BAD_INPUT', `CVSS vector '${vector}': ${msg}`);
  const parts = vector.split('/');
  const head = /^CVSS:(3\.[01])$/.exec(parts[0] ?? '');
  if (!head) throw bad("must start with 'CVSS:3.0/' or 'CVSS:3.1/'");
  const version = head[1] as '3.0' | '3.1';
  const m: Record<string, string> = {};
  for (const p of parts.slice(1)) {
    const [k, v, extra] = p.split(':');
    if (k === undefined || v === undefined || extra !== undefined) throw bad(`malformed metric '${p}'`);
    if (m[k] !== undefined) throw bad(`metric ${k} appears twice`);
    if (WEIGHTS[k]) {
      if (WEIGHTS[k][v] === undefined) throw bad(`${k}:${v} is not a valid value`);
    } else if (!OPTIONAL.has(k)) throw bad(`unknown metric ${k}`);
    m[k] = v;
  }
  const missing = Object.keys(WEIGHTS).filter((k) => m[k] === undefined);
  if (missing.length > 0) throw bad(`missing base metric${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  const w = (k: string) => (WEIGHTS[k] as Record<string, number>)[m[k] as string] as number;
  const changed = m.S === 'C';
  // Privileges Required weighs more when the scope changes (spec §7.4)
  const pr = changed && m.PR === 'L' ? 0.68 : changed && m.PR === 'H' ? 0.5 : w('PR');
  const iss = 1 - (1 - w('C')) * (1 - w('I')) * (1 - w('A'));
  const impact = changed ? 7.52 * (iss - 0.029) - 3.25 * Math.pow(iss - 0.02, 15) : 6.42 * iss;
  const exploitability = 8.22 * w('AV') * w('AC') * pr * w('UI');
  const roundUp = version === '3.1' ? roundUp31 : roundUp30;
  const score = impact <= 0 ? 0 : roundUp(Math.min((changed ? 1.08 : 1) * (impact + exploitability), 10));
  return { version, score, rating: cvssRating(score) };
}
