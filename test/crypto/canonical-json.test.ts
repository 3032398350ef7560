import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson } from '../../src/crypto/canonical-json.js';
import { parseStrictJson } from '../../src/util/strict-json.js';
import { runReferencePython, skipUnlessReference } from '../helpers/reference.js';

/** Documents chosen for the places an encoder goes wrong. */
const corpus: unknown[] = [
  {},
  [],
  '',
  0,
  -1,
  9007199254740991,
  -9007199254740991,
  true,
  false,
  null,
  { b: 1, a: 2, A: 3, _: 4, '': 5, aa: 6, 'a b': 7 },
  { quote: 'say "hi"', backslash: 'C:\\path\\to', both: '\\"' },
  { control: '\u0000\u0001\u001f\n\r\t\b\f\u007f' },
  { unicode: 'héllo wörld ✓ 日本語 🎉', clé: 'välue', '🎉': 1, é: 2, e: 3 },
  { astral: { '\uffff': 1, '\u{10000}': 2, '\ue000': 3, z: 4 } },
  { slash: 'a/b</script>', html: "<>&'" },
  { tab: 'a\tb', cr: 'line\r\n' },
  { nested: { deeper: { deepest: [1, [2, [3, [4, [5, { k: [] }]]]]] } } },
  {
    _type: 'link',
    name: 'step',
    materials: { 'src/a.c': { sha256: 'ab'.repeat(32) } },
    byproducts: { 'return-value': 0, stdout: 'out\n' },
  },
  Array.from({ length: 50 }, (_, i) => ({ [`k${49 - i}`]: i })),
];

function deep(n: number): unknown {
  let v: unknown = 'bottom';
  for (let i = 0; i < n; i++) v = i % 2 ? [v] : { [`level${i}`]: v };
  return v;
}
corpus.push(deep(200));

test('canonical JSON: sorted keys, no whitespace, only " and \\ escaped', () => {
  assert.equal(canonicalJson({ b: 1, a: [true, null, 'x'] }), '{"a":[true,null,"x"],"b":1}');
  assert.equal(canonicalJson('a"b\\c\nd'), '"a\\"b\\\\c\nd"');
  assert.equal(canonicalJson('ü✓'), '"ü✓"');
  assert.equal(canonicalJson({ nested: { z: 0, y: -5 } }), '{"nested":{"y":-5,"z":0}}');
});

test('canonical JSON: keys sort by code point as Python does, not by UTF-16 unit', () => {
  // U+FFFF sorts before U+10000 by code point, but after it by UTF-16 code unit (0xD800)
  assert.equal(canonicalJson({ '\u{10000}': 1, '\uffff': 2 }), '{"\uffff":2,"\u{10000}":1}');
});

test('canonical JSON: floats, NaN, Infinity and unsafe integers are errors, not re-encodings', () => {
  for (const bad of [1.5, NaN, Infinity, -Infinity, 2 ** 53]) {
    assert.throws(
      () => canonicalJson({ x: bad }),
      (e: Error & { code?: string }) => e.code === 'BAD_INPUT' && /\$\.x/.test(e.message),
    );
  }
  assert.throws(() => canonicalJson({ f: () => 1 }), /cannot encode a function/);
  assert.equal(canonicalJson(2n ** 64n), '18446744073709551616');
});

test('strict JSON parsing refuses what would not survive a canonical round trip', () => {
  assert.throws(
    () => parseStrictJson('{"a": 1.0}', 'x.link'),
    (e: Error & { file?: string }) => e.file === 'x.link' && /line 1 column 7: number 1.0 is not an integer/.test(e.message),
  );
  assert.throws(() => parseStrictJson('{\n "a": 1e3}'), /line 2 column 7: number 1e3/);
  assert.throws(() => parseStrictJson('{"a": 18446744073709551616}'), /too large/);
  assert.throws(() => parseStrictJson('{"a": '), /malformed JSON/);
  assert.deepEqual(parseStrictJson('{"s": "1.5 and 2e3 inside a string \\" are fine", "n": -12}'), {
    s: '1.5 and 2e3 inside a string " are fine',
    n: -12,
  });
});

test('canonical JSON bytes equal securesystemslib encode_canonical for the whole corpus', async (t) => {
  if (skipUnlessReference(t)) return;
  const ours = corpus.map((doc) => Buffer.from(canonicalJson(doc), 'utf8').toString('base64'));
  // the documents travel as JSON on stdin; Python's json.loads keeps every value exactly here
  const theirs = JSON.parse(
    await runReferencePython(
      [
        'import sys, json, base64',
        'from securesystemslib.formats import encode_canonical',
        'sys.setrecursionlimit(10000)',
        'docs = json.loads(sys.stdin.read())',
        'print(json.dumps([base64.b64encode(encode_canonical(d).encode("utf-8")).decode() for d in docs]))',
      ].join('\n'),
      { input: JSON.stringify(corpus) },
    ),
  ) as string[];
  assert.equal(theirs.length, ours.length);
  for (let i = 0; i < ours.length; i++) {
    assert.equal(ours[i], theirs[i], `document ${i}: ${JSON.stringify(corpus[i]).slice(0, 80)}`);
  }
});

test('canonical JSON of a big integer equals the reference', async (t) => {
  if (skipUnlessReference(t)) return;
  const theirs = await runReferencePython(
    'from securesystemslib.formats import encode_canonical\nprint(encode_canonical({"big": 2**64, "neg": -(2**70)}), end="")',
  );
  assert.equal(canonicalJson({ big: 2n ** 64n, neg: -(2n ** 70n) }), theirs);
});
