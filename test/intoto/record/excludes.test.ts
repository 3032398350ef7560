import assert from 'node:assert/strict';
import { execFileSync } from '../../helpers/child-process.js';
import { test } from 'node:test';
import { isEvidentError } from '../../../src/errors.js';
import { DEFAULT_EXCLUDE_PATTERNS, compileExcludes } from '../../../src/intoto/record/excludes.js';
import { REFERENCE_PYTHON, referenceInstalled } from './helpers.js';

test('default excludes are the reference settings', () => {
  assert.deepEqual([...DEFAULT_EXCLUDE_PATTERNS], ['*.link*', '.git', '*.pyc', '*~']);
  const m = compileExcludes(DEFAULT_EXCLUDE_PATTERNS);
  for (const name of ['step.abcd1234.link', 'a/b.link-unfinished', '.git', '.git/HEAD', 'sub/.git/x', 'x.pyc', 'a/x.pyc', 'notes~']) {
    assert.equal(m(name), true, name);
  }
  for (const name of ['src/main.c', 'linker.c', 'git', '.gitignore', 'x.py', 'a~b']) assert.equal(m(name), false, name);
});

test('user patterns: globs, directories, anchoring, negation (last match wins)', () => {
  const m = compileExcludes(['*.pyc', 'build/', '/top.txt', 'docs', '!docs/keep.md', '#comment', '']);
  assert.equal(m('a/b/c.pyc'), true);
  assert.equal(m('build'), false, 'build/ only matches below a directory named build');
  assert.equal(m('build/out.o'), true);
  assert.equal(m('sub/build/out.o'), true);
  assert.equal(m('top.txt'), true);
  assert.equal(m('sub/top.txt'), false, 'a leading / anchors to the root');
  assert.equal(m('docs/a.md'), true);
  assert.equal(m('docs/keep.md'), false, 'the reference re-includes even below an excluded directory');
  assert.equal(m('src/x.c'), false);
});

test('names outside the base and absolute names are matched as the reference does', () => {
  const m = compileExcludes(['x', '/abs/q']);
  assert.equal(m('../x'), true);
  assert.equal(m('../a/x/b'), true);
  assert.equal(m('/abs/q'), true, 'one leading / is dropped before matching');
  assert.equal(m('../y'), false);
});

test('a pattern the reference cannot compile is a clear error', () => {
  for (const bad of ['foo\\', '!']) {
    assert.throws(
      () => compileExcludes([bad]),
      (e) => isEvidentError(e) && e.code === 'BAD_INPUT' && e.message.includes('invalid exclude pattern'),
    );
  }
});

test("inDir (the walk's per-directory question) answers as the full name does", () => {
  const dirs = ['.', 'a', 'a/b', 'build', 'src/build', '.git', 'x.pyc', '..', '../x', '/abs', '/', 'dir.link', 'foo'];
  const bases = ['f.c', 'x.pyc', '.git', 'build', 'n~', 's.link', 'keep.o', 'a.o', 'foo', 'é'];
  const lists = [[...DEFAULT_EXCLUDE_PATTERNS], ['build/', '*.o'], ['foo', 'src/build'], ['*.o', '!keep.o'], ['/a', 'b/']];
  for (const patterns of lists) {
    const m = compileExcludes(patterns);
    for (const dir of dirs) {
      const inDir = m.inDir(dir);
      for (const base of bases) {
        const full = dir === '.' ? base : dir.endsWith('/') ? dir + base : `${dir}/${base}`;
        assert.equal(inDir(base), m(full), `${JSON.stringify(patterns)} ${full}`);
      }
    }
  }
});

const PATTERN_LISTS: string[][] = [
  ...[
    'foo',
    'foo/',
    '/foo',
    '/foo/',
    'foo/bar',
    'foo/bar/',
    '*.pyc',
    '*.link*',
    '.git',
    '*~',
    'a/**/b',
    '**/foo',
    'foo/**',
    '**',
    '*',
    '.*',
    '\\!x',
    '[ab]*',
    'dir/*.txt',
    '  sp  ',
    'a?c',
    '**/',
    'x/**/',
    '\\#c',
    '*.py[co]',
    'b*/',
    '../x',
    'abs',
    '../*',
    '*/',
    '**/x/',
    'a/*/',
    '[!a]*',
    'x/*',
    'é*',
  ].map((p) => [p]),
  ['*', '!*.txt'],
  ['foo', '!foo/bar', 'foo/bar/baz'],
  ['*.dat', '!keep/**', 'keep/drop.dat'],
  ['x/', '!x/y'],
  DEFAULT_EXCLUDE_PATTERNS as string[],
];
const NAMES = [
  'foo',
  'foo/bar',
  'foo/bar/baz',
  'a/foo',
  'a/foo/b',
  'x.pyc',
  'd/x.pyc',
  's.link',
  's.link.x',
  '.git',
  '.git/c',
  'a/.git',
  'f~',
  'a/b',
  'a/x/b',
  'a/x/y/b',
  'a/b/c',
  'bar',
  'dir/a.txt',
  'dir/s/a.txt',
  'sp',
  'abc',
  'a/abc',
  'x',
  '!x',
  'bz/q',
  'bz',
  'x/y',
  'x/y/z',
  '#c',
  '../x',
  '../foo/q',
  '/abs/q',
  'abs/q',
  '.',
  '..',
  '../../y',
  'a..b',
  'foo ',
  'é/ü.txt',
  'x/y/z/w',
  'keep/a.dat',
  'keep/drop.dat',
  'b.dat',
  'n.txt',
  'q/n.txt',
];

test('matches pathspec gitwildmatch (the reference) on a corpus of patterns and names', (t) => {
  if (!referenceInstalled) {
    t.skip('in-toto reference not installed: /usr/bin/in-toto-run missing (apt-get install in-toto)');
    return;
  }
  const script = [
    'import json, sys',
    'from pathspec import PathSpec',
    'lists, names = json.load(sys.stdin)',
    "print(json.dumps([sorted(set(PathSpec.from_lines('gitwildmatch', l).match_files(names))) for l in lists]))",
  ].join('\n');
  const out = execFileSync(REFERENCE_PYTHON, ['-c', script], { input: JSON.stringify([PATTERN_LISTS, NAMES]) });
  const want = JSON.parse(out.toString()) as string[][];
  PATTERN_LISTS.forEach((patterns, i) => {
    const m = compileExcludes(patterns);
    const got = NAMES.filter((n) => m(n)).sort();
    assert.deepEqual(got, [...want[i]!].sort(), `patterns ${JSON.stringify(patterns)}`);
  });
});
