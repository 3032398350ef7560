import { EvidentError } from '../../errors.js';

/**
 * Python's `fnmatch.fnmatch` on POSIX, which is how the in-toto reference matches artifact-rule patterns:
 * `*` matches any run of characters INCLUDING `/`, `?` one character, `[seq]` / `[!seq]` a character in
 * (or not in) the set, a `[` without a closing `]` is literal, and the match is case-sensitive and covers
 * the whole name. Patterns are compiled once (cached) to a predicate; common shapes skip the RegExp.
 *
 * @example fnmatch('src/lib/a.c', 'src/*.c') === true
 */
export function fnmatch(name: string, pattern: string): boolean {
  return compileFnmatch(pattern)(name);
}

export type NameMatcher = (name: string) => boolean;

const cache = new Map<string, NameMatcher>();
const CACHE_LIMIT = 32768;

/** The predicate for `pattern`, compiled once per pattern (a bounded cache, like Python's lru_cache). */
export function compileFnmatch(pattern: string): NameMatcher {
  let matcher = cache.get(pattern);
  if (matcher === undefined) {
    matcher = build(pattern);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(pattern, matcher);
  }
  return matcher;
}

/** The JavaScript RegExp (flags `su`) equivalent to Python's `fnmatch.translate(pattern)`. */
export function fnmatchRegExp(pattern: string): RegExp {
  return new RegExp(`^${translate(pattern)}$`, 'su');
}

function build(pattern: string): NameMatcher {
  // Shapes that cover most layouts (`*`, `foo`, `src/*`, `*.c`) need no RegExp at all.
  if (pattern === '*') return () => true;
  const firstMeta = pattern.search(/[*?[]/);
  if (firstMeta === -1) return (name) => name === pattern;
  const rest = pattern.slice(firstMeta + 1);
  if (pattern[firstMeta] === '*' && !/[*?[]/.test(rest)) {
    const head = pattern.slice(0, firstMeta);
    if (rest === '') return (name) => name.startsWith(head);
    if (head === '') return (name) => name.endsWith(rest);
    return (name) => name.length >= head.length + rest.length && name.startsWith(head) && name.endsWith(rest);
  }
  const re = fnmatchRegExp(pattern);
  return (name) => re.test(name);
}

/** One piece of a translated pattern: a star, or the RegExp source of exactly one character. */
type Piece = { star: true } | { star: false; source: string };

/**
 * Follows the steps of Python 3.11's `fnmatch.translate`: consecutive stars collapse, and every star
 * followed by a fixed run becomes a lazy match of that run with no backtracking into it (Python uses an
 * atomic group; JavaScript gets the same from a lookahead plus back-reference). That keeps patterns such
 * as `*a*a*a*b` linear instead of exponential on long names. The leftmost choice is always safe because
 * every fixed piece matches exactly one character.
 */
function translate(pattern: string): string {
  const pieces = tokenize(pattern);
  const out: string[] = [];
  let i = 0;
  while (i < pieces.length && !pieces[i]!.star) out.push((pieces[i++] as { source: string }).source);
  let group = 0;
  while (i < pieces.length) {
    i++; // the star
    const fixed: string[] = [];
    while (i < pieces.length && !pieces[i]!.star) fixed.push((pieces[i++] as { source: string }).source);
    if (i === pieces.length) {
      out.push('.*', fixed.join(''));
    } else {
      group++;
      out.push(`(?=(.*?${fixed.join('')}))\\${group}`);
    }
  }
  return out.join('');
}

function tokenize(pattern: string): Piece[] {
  const chars = Array.from(pattern); // code points, as Python indexes str
  const pieces: Piece[] = [];
  let i = 0;
  while (i < chars.length) {
    const c = chars[i++]!;
    if (c === '*') {
      if (pieces.length === 0 || !pieces[pieces.length - 1]!.star) pieces.push({ star: true });
    } else if (c === '?') {
      pieces.push({ star: false, source: '.' });
    } else if (c === '[') {
      let j = i;
      if (j < chars.length && chars[j] === '!') j++;
      if (j < chars.length && chars[j] === ']') j++;
      while (j < chars.length && chars[j] !== ']') j++;
      if (j >= chars.length) {
        pieces.push({ star: false, source: '\\[' });
      } else {
        pieces.push({ star: false, source: characterClass(chars.slice(i, j)) });
        i = j + 1;
      }
    } else {
      pieces.push({ star: false, source: literal(c) });
    }
  }
  return pieces;
}

/**
 * A bracket expression, `inner` being what stood between `[` and `]`. Python splits it into chunks at
 * the hyphens that form ranges, drops ranges whose ends are reversed (together with both ends), and
 * treats every other hyphen literally; the result is rebuilt here as explicit single characters and
 * ranges, each written as a `\u{…}` escape so no character can be misread by the RegExp parser.
 */
function characterClass(inner: string[]): string {
  const negated = inner[0] === '!';
  const start = negated ? 1 : 0;
  if (!inner.includes('-')) return classSource(negated, itemsOf(inner.slice(start), []));
  // Chunks as Python cuts them: a hyphen after the first character of a chunk, then the search resumes
  // two characters after it (so `a-c-e` is the range a-c, then a literal '-' and 'e').
  const chunks: string[][] = [];
  let from = 0;
  let k = start + 1;
  for (;;) {
    k = inner.indexOf('-', k);
    if (k < 0) break;
    chunks.push(inner.slice(from, k));
    from = k + 1;
    k += 3;
  }
  const last = inner.slice(from);
  if (last.length > 0) chunks.push(last);
  else chunks[chunks.length - 1]!.push('-');
  for (let c = chunks.length - 1; c > 0; c--) {
    const left = chunks[c - 1]!;
    const right = chunks[c]!;
    if (left.length > 0 && right.length > 0 && cp(left[left.length - 1]!) > cp(right[0]!)) {
      chunks[c - 1] = [...left.slice(0, -1), ...right.slice(1)];
      chunks.splice(c, 1);
    }
  }
  if (negated) chunks[0] = chunks[0]!.slice(1);
  // Between consecutive chunks the hyphen is a range from the left chunk's last to the right's first.
  const items: Item[] = [];
  chunks.forEach((chunk, n) => {
    const body = [...chunk];
    if (n > 0) {
      const prev = items.pop();
      const first = body.shift();
      if (prev === undefined || typeof prev !== 'string' || first === undefined) {
        throw new EvidentError('BAD_INPUT', `pattern has a malformed character range: [${inner.join('')}]`);
      }
      items.push([prev, first]);
    }
    for (const ch of body) items.push(ch);
  });
  return classSource(negated, items);
}

/** A single character or an inclusive range of code points. */
type Item = string | [string, string];

function itemsOf(chars: string[], items: Item[]): Item[] {
  for (const ch of chars) items.push(ch);
  return items;
}

function classSource(negated: boolean, items: Item[]): string {
  if (items.length === 0) return negated ? '.' : '(?!)'; // Python: an empty set never matches, `[!]` anything
  const body = items.map((item) => (typeof item === 'string' ? hex(item) : `${hex(item[0])}-${hex(item[1])}`)).join('');
  return `[${negated ? '^' : ''}${body}]`;
}

function cp(ch: string): number {
  return ch.codePointAt(0)!;
}

function hex(ch: string): string {
  return `\\u{${cp(ch).toString(16)}}`;
}

function literal(ch: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(ch) ? `\\${ch}` : ch;
}
