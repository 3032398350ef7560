import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStrictJson } from '../../src/util/strict-json.js';

test('strict JSON: integers pass; fractions, exponents and unsafe integers are refused with their place', () => {
  assert.deepEqual(parseStrictJson('{"a": [0, -12, 9007199254740991], "b": "1.5 e3 \\\\", "c": "\\"2.0\\""}'), {
    a: [0, -12, 9007199254740991],
    b: '1.5 e3 \\',
    c: '"2.0"',
  });
  assert.throws(
    () => parseStrictJson('{\n "a": 1.0\n}', 'f.link'),
    (e: Error) => /^line 2 column 7: number 1\.0 is not an integer/.test(e.message),
  );
  assert.throws(() => parseStrictJson('[1e3]'), /line 1 column 2: number 1e3 is not an integer/);
  assert.throws(() => parseStrictJson('[-0.5]'), /number -0\.5 is not an integer/);
  assert.throws(
    () => parseStrictJson('{"x": "\\\\", "y": 18446744073709551616}'),
    /line 1 column 18: integer 18446744073709551616 is too large/,
  );
  assert.throws(() => parseStrictJson('{"a": 1,}'), /malformed JSON: /);
});

test('strict JSON: numbers inside strings are text, however the quotes around them are escaped', () => {
  for (const s of ['1.5', '\\"1.5', '\\\\', 'a\\\\\\"1e9', '\\\\\\\\"']) {
    const text = `["${s}", 7]`;
    if (!isJson(text)) continue;
    assert.deepEqual(parseStrictJson(text), JSON.parse(text), text);
  }
  assert.throws(() => parseStrictJson('["\\\\", 2.5]'), /number 2\.5/, 'an escaped backslash does not escape the closing quote');
});

test('strict JSON: a string of 3·10^7 characters (a DSSE envelope of a large link) is walked, not backtracked', () => {
  const payload = 'QUJD'.repeat(7_500_000);
  const value = parseStrictJson(`{"payload": "${payload}", "n": 3}`) as { payload: string; n: number };
  assert.equal(value.payload.length, payload.length);
  assert.throws(() => parseStrictJson(`{"payload": "${payload}", "n": 3.5}`), /number 3\.5 is not an integer/);
});

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
