import { compareDigits } from './semver.js';

/**
 * The ordering used for ECOSYSTEM ranges of ecosystems without a SemVer ordering of their own (our
 * `generic` ecosystem, for pkg:generic packages, and as an approximation for the others):
 * a version is split into runs of digits and runs of letters (separators `.`, `-`, `_`, `+`, `~` only
 * split); runs are compared left to right:
 *  - numbers compare numerically (1.2.13 > 1.2.9); a missing number counts as 0 (1.0 = 1.0.0);
 *  - a word of two or more letters marks a pre-release and ranks below the release and below any number
 *    (1.0rc1 < 1.0-rc2 < 1.0 < 1.0.1; alpha < beta < rc by ASCII);
 *  - a single letter marks a post-release, as OpenSSL's lettered versions do (1.1.1 < 1.1.1a < 1.1.1w).
 */
type Token = { rank: number; num?: string; word?: string };

const PRE = 0;
const NUMBER = 1;
const POST = 2;

export function parseGenericVersion(version: string): Token[] | undefined {
  if (!/^[0-9A-Za-z][0-9A-Za-z._+~-]*$/.test(version)) return undefined;
  const tokens: Token[] = [];
  for (const m of version.matchAll(/\d+|[A-Za-z]+/g)) {
    const t = m[0];
    if (/^\d/.test(t)) tokens.push({ rank: NUMBER, num: t.replace(/^0+(?=\d)/, '') });
    else tokens.push({ rank: t.length === 1 ? POST : PRE, word: t.toLowerCase() });
  }
  return tokens;
}

export function compareGenericVersion(a: Token[], b: Token[]): number {
  const zero: Token = { rank: NUMBER, num: '0' };
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? zero;
    const y = b[i] ?? zero;
    if (x.rank !== y.rank) return x.rank < y.rank ? -1 : 1;
    const c =
      x.rank === NUMBER
        ? compareDigits(x.num as string, y.num as string)
        : (x.word as string) < (y.word as string)
          ? -1
          : (x.word as string) > (y.word as string)
            ? 1
            : 0;
    if (c !== 0) return c;
  }
  return 0;
}
