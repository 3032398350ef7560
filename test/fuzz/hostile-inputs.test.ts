/**
 * The crash classes issue 20's fuzzing found, as fixed inputs for every target they apply to: each must
 * end in a result or an EvidentError, within a second of CPU. (Found by mutation; kept here so a
 * regression fails on the exact input, not only when the fuzzer happens to draw it again.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { outcome } from './engine.js';
import { removeSeedFiles } from './seeds.js';
import { TARGETS } from './targets.js';

test.after(removeSeedFiles);

const DEEP = 100_000;

/** Hostile variants of a seed: deep nesting where a value may start, NUL, huge numbers, odd unicode, cut short. */
function hostile(seed: Buffer): { name: string; input: Buffer }[] {
  const text = seed.toString('latin1');
  const at = Math.max(0, text.indexOf(':') + 1);
  const insert = (s: string, pos = at) => Buffer.concat([seed.subarray(0, pos), Buffer.from(s), seed.subarray(pos)]);
  return [
    { name: `[ ×${DEEP}`, input: insert('['.repeat(DEEP)) },
    { name: `[ ×${DEEP} closed`, input: insert('['.repeat(DEEP) + ']'.repeat(DEEP)) },
    { name: `{"a": ×${DEEP}`, input: insert('{"a":'.repeat(DEEP)) },
    { name: `YAML "- " ×${DEEP / 10}`, input: insert('- '.repeat(DEEP / 10), 0) },
    { name: 'whole input deep array', input: Buffer.from('['.repeat(DEEP) + ']'.repeat(DEEP)) },
    { name: 'NUL', input: insert('\u0000') },
    { name: 'huge number', input: insert('1' + '0'.repeat(400)) },
    { name: 'exponent', input: insert('1e999999') },
    { name: 'lone surrogate escape', input: insert('"\\ud800"') },
    { name: 'BOM and RTL override', input: insert('\ufeff\u202e') },
    { name: 'cut in half', input: seed.subarray(0, seed.length >> 1) },
    { name: 'empty', input: Buffer.alloc(0) },
    { name: 'DER: indefinite length', input: Buffer.concat([Buffer.from([0x30, 0x80]), seed, Buffer.from([0, 0])]) },
    { name: 'DER: length 2^32', input: Buffer.concat([Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), seed]) },
  ];
}

for (const target of TARGETS) {
  test(`hostile inputs to ${target.name} end in a result or an EvidentError`, async () => {
    const seeds = await target.seeds();
    const failures: string[] = [];
    for (const seed of seeds.slice(0, 2))
      for (const { name, input } of hostile(seed)) {
        const result = await outcome(target, input);
        if (result.kind !== 'ok') failures.push(`${name}: ${result.kind}: ${result.message}`);
      }
    assert.deepEqual(failures, []);
  });
}
