import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pythonJsonDumps } from '../../../src/intoto/models/python-json.js';
import { runReferencePython, skipUnlessReference } from '../../helpers/reference.js';

const AWKWARD: unknown[] = [
  {},
  [],
  { a: {}, b: [], c: [[]], d: [{}] },
  { z: 1, a: -2, é: 'ü', '😀': '\ue000', '\ue000': '😀', A: 9007199254740991 },
  { s: 'quote " backslash \\ slash / nl \n cr \r tab \t bs \b ff \f nul \u0000 us \u001f del \u007f nbsp \u00a0' },
  { deep: [[[[[{ x: [1, [2, [3]]] }]]]]] },
  { t: true, f: false, n: null, list: [true, null, 0, -1, 'x'] },
  { lone: '\ud800 and \udfff' },
  // integer-like keys enumerate first in JS: the sorted-input fast path must not be taken
  { '10': 1, '9': [2], a: { '2': 'x', '10': 'y' } },
  // sorted already: the fast path, with everything it must escape
  { a: 'é😀\u007f\u0001"\\', b: ['\u2028', { c: {}, d: [] }], e: -0 },
];

test('writes JSON exactly as the reference json.dumps(indent=1, separators=(",", ": "), sort_keys=True)', async (t) => {
  if (skipUnlessReference(t)) return;
  // the corpus crosses as ASCII-escaped JSON, so lone surrogates survive the trip
  const out = await runReferencePython(
    `import json,sys
docs = json.loads(sys.stdin.read())
print(json.dumps([json.dumps(d, indent=1, separators=(",", ": "), sort_keys=True) for d in docs]))`,
    { input: JSON.stringify(AWKWARD).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) },
  );
  const expected = JSON.parse(out) as string[];
  AWKWARD.forEach((doc, i) => assert.equal(pythonJsonDumps(doc), expected[i], JSON.stringify(doc)));
});

test('refuses what metadata must not hold', () => {
  assert.throws(() => pythonJsonDumps({ x: 1.5 }), /integers only/);
  assert.throws(() => pythonJsonDumps({ x: () => 1 }), /cannot write a function/);
});
