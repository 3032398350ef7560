import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pyNormpath } from '../../../src/intoto/record/normpath.js';

// Expected values are what Python's posixpath.normpath returns (checked against Python 3.11).
const cases: [string, string][] = [
  ['', '.'],
  ['.', '.'],
  ['./a', 'a'],
  ['a/../b', 'b'],
  ['/a/b/', '/a/b'],
  ['//a', '//a'],
  ['///a', '/a'],
  ['../x', '../x'],
  ['a/./b//c/', 'a/b/c'],
  ['..', '..'],
  ['/..', '/'],
  ['/../a', '/a'],
  ['a/..', '.'],
  ['../../a/../b', '../../b'],
  ['dir/', 'dir'],
  ['é/./ü', 'é/ü'],
];

test('pyNormpath matches Python posixpath.normpath', () => {
  for (const [input, want] of cases) assert.equal(pyNormpath(input), want, JSON.stringify(input));
});
