import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from '../../helpers/child-process.js';
import { existsSync } from 'node:fs';
import { compileFnmatch, fnmatch, fnmatchRegExp } from '../../../src/intoto/rules/fnmatch.js';

const PYTHON = '/usr/bin/python3';

test('fnmatch: * matches across /, ? one character, sets and negated sets', () => {
  assert.equal(fnmatch('src/lib/a.c', 'src/*.c'), true);
  assert.equal(fnmatch('src/a.c', '*'), true);
  assert.equal(fnmatch('', '*'), true);
  assert.equal(fnmatch('a/b', 'a?b'), true);
  assert.equal(fnmatch('ab', 'a?b'), false);
  assert.equal(fnmatch('b', '[abc]'), true);
  assert.equal(fnmatch('b', '[!abc]'), false);
  assert.equal(fnmatch('d', '[!abc]'), true);
  assert.equal(fnmatch(']', '[]]'), true);
  assert.equal(fnmatch('x', '[!]]'), true);
  assert.equal(fnmatch('[', '['), true, 'an unclosed [ is literal');
  assert.equal(fnmatch('a[b', 'a[b'), true);
  assert.equal(fnmatch('Foo.C', 'foo.c'), false, 'case-sensitive on POSIX');
  assert.equal(fnmatch('.hidden', '*'), true, 'a leading dot is not special');
  assert.equal(fnmatch('a\nb', 'a*b'), true, '* crosses newlines (DOTALL)');
  assert.equal(fnmatch('😀', '?'), true, '? is one code point');
  assert.equal(fnmatch('x', '[z-a]'), false, 'a reversed range matches nothing');
  assert.equal(fnmatch('x', '[!z-a]'), true);
  assert.equal(fnmatch('-', '[a-c-e]'), true, 'a hyphen right after a range is literal');
  assert.equal(fnmatch('d', '[a-c-e]'), false);
  assert.equal(fnmatch('a.c', 'a(.)c'), false, 'regex syntax in a pattern is literal');
  assert.equal(fnmatch('a(.)c', 'a(.)c'), true);
  assert.equal(fnmatch('a+b{2}$', 'a+b{2}$'), true);
});

test('fnmatch: patterns are compiled once and shapes without metacharacters skip the RegExp', () => {
  assert.equal(compileFnmatch('src/*'), compileFnmatch('src/*'));
  assert.equal(compileFnmatch('src/*')('src/x/y'), true);
  assert.equal(compileFnmatch('*.c')('a.c'), true);
  assert.equal(compileFnmatch('a*b')('ab'), true);
  assert.equal(compileFnmatch('a*ab')('ab'), false, 'head and tail must not overlap');
  assert.equal(compileFnmatch('foo')('foo'), true);
  assert.equal(compileFnmatch('foo')('foo2'), false);
});

test('fnmatch: many stars against a long name stays fast (no exponential backtracking)', () => {
  const name = 'a'.repeat(5000);
  const started = process.hrtime.bigint();
  assert.equal(fnmatch(name, '*a*a*a*a*a*a*a*a*b'), false);
  assert.ok(Number(process.hrtime.bigint() - started) / 1e6 < 2000);
  assert.equal(fnmatchRegExp('*a*b').flags, 'su');
});

/** A deterministic generator, so a failure reproduces. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('fnmatch agrees with Python fnmatch.fnmatch on a generated corpus', (t) => {
  if (!existsSync(PYTHON)) {
    t.skip(`Python reference not installed: ${PYTHON} is missing, fnmatch property test NOT run`);
    return;
  }
  const random = prng(20261125);
  const pick = (chars: string[], max: number) => {
    const n = Math.floor(random() * (max + 1));
    let s = '';
    for (let i = 0; i < n; i++) s += chars[Math.floor(random() * chars.length)];
    return s;
  };
  const patternChars = [
    'a',
    'b',
    'c',
    'z',
    '/',
    '.',
    '*',
    '*',
    '?',
    '[',
    '[',
    ']',
    ']',
    '!',
    '-',
    '-',
    '\\',
    '^',
    '&',
    'é',
    '😀',
    '(',
    '+',
  ];
  const nameChars = ['a', 'b', 'c', 'z', '/', '.', '-', ']', '[', '!', '\\', '^', '&', 'é', '😀', '\n', '(', '+'];
  const cases: { pattern: string; names: string[] }[] = [];
  for (let i = 0; i < 1500; i++) {
    const names = Array.from({ length: 12 }, () => pick(nameChars, 8));
    cases.push({ pattern: pick(patternChars, 9), names });
  }
  const script = [
    'import fnmatch, json, sys',
    'cases = json.load(sys.stdin)',
    'out = []',
    'for c in cases:',
    '    try:',
    '        out.append([fnmatch.fnmatch(n, c["pattern"]) for n in c["names"]])',
    '    except Exception as e:',
    '        out.append("error")',
    'json.dump(out, sys.stdout)',
  ].join('\n');
  const run = spawnSync(PYTHON, ['-c', script], { input: JSON.stringify(cases), encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(run.status, 0, run.stderr);
  const expected = JSON.parse(run.stdout) as (boolean[] | 'error')[];
  let compared = 0;
  cases.forEach((c, i) => {
    const want = expected[i]!;
    if (want === 'error') {
      assert.throws(() => c.names.map((n) => fnmatch(n, c.pattern)), `pattern ${JSON.stringify(c.pattern)}`);
      return;
    }
    c.names.forEach((name, j) => {
      assert.equal(fnmatch(name, c.pattern), want[j], `fnmatch(${JSON.stringify(name)}, ${JSON.stringify(c.pattern)})`);
      compared++;
    });
  });
  assert.ok(compared > 10000);
});
