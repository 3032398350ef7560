import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ArtifactDict } from '../../../src/intoto/models/types.js';
import { indexArtifacts, sameArtifactSets, sameHashes } from '../../../src/intoto/rules/apply.js';
import { packedArtifacts } from '../../helpers/packed.js';
import { seededRandom } from '../../helpers/random.js';

const digest = (r: () => number) => ({
  sha256: Math.floor(r() * 4)
    .toString(16)
    .repeat(64),
});

test('packed: paths in canonical order, digests and the plain dictionary as written', () => {
  // JSON.parse makes `__proto__` an own key, as reading a link does
  const dict = JSON.parse(
    '{"src/b.c": {"sha256": "bb"}, "10": {"sha256": "aa"}, "__proto__x": {}, "src/a.c": {"md5": "ff", "sha256": "0A"}, "__proto__": {"sha256": "cc"}}',
  ) as ArtifactDict;
  const packed = packedArtifacts(dict)!;
  assert.deepEqual(packed.keys(), ['10', '__proto__', '__proto__x', 'src/a.c', 'src/b.c'], 'code point order, as the file lists them');
  assert.equal(packed.size, 5);
  assert.deepEqual(packed.get('src/a.c'), { md5: 'ff', sha256: '0A' });
  assert.deepEqual(packed.get('__proto__'), { sha256: 'cc' });
  assert.equal(packed.get('constructor'), undefined);
  assert.equal(packed.has('toString'), false);
  assert.equal(packed.has('src/b.c'), true);
  assert.deepEqual(packed.toDict(), JSON.parse(JSON.stringify(dict)));
  assert.equal(packed.toDict(), packed.toDict(), 'parsed once');
});

test('packed: lookups agree with a hash table in any order, present or absent, ASCII or not', () => {
  for (let seed = 1; seed <= 40; seed++) {
    const r = seededRandom(seed);
    const alphabet = seed % 4 === 0 ? ['a', 'b', '/', 'é', '\u{1F600}', '\uE000', 'z'] : ['a', 'b', '/', '.', 'z', 'A'];
    const word = () => Array.from({ length: 1 + Math.floor(r() * 5) }, () => alphabet[Math.floor(r() * alphabet.length)]).join('');
    const dict: ArtifactDict = {};
    for (let i = 0; i < 60; i++) dict[word()] = digest(r);
    const packed = packedArtifacts(dict)!;
    const table = new Map(packed.keys().map((p, i) => [p, i]));
    const queries = [...packed.keys()];
    for (let i = 0; i < 80; i++) queries.push(word());
    // runs in list order (the common case), then shuffled, then list order again
    const shuffled = [...queries].sort(() => r() - 0.5);
    for (const q of [...queries, ...shuffled, ...[...packed.keys()].reverse(), '', '\u{10FFFF}', ...queries]) {
      assert.equal(packed.indexOf(q), table.get(q) ?? -1, `seed ${seed}: ${JSON.stringify(q)}`);
    }
  }
});

test('packed: digests compare as whole dictionaries, byte for byte of their canonical form', () => {
  const a = packedArtifacts({ x: { sha256: 'aa' }, y: { md5: '11', sha256: 'aa' }, z: {}, w: { sha256: 'AA' } })!;
  const b = packedArtifacts({ x: { sha256: 'aa' }, y: { sha256: 'aa' }, z: {}, w: { sha256: 'aa' } })!;
  const same = (p: string) => a.sameDigestsAt(a.indexOf(p), b, b.indexOf(p));
  assert.equal(same('x'), true);
  assert.equal(same('y'), false, 'an extra algorithm differs');
  assert.equal(same('z'), true, 'two empty digest sets are equal');
  assert.equal(same('w'), false, 'hex is compared as written, as Python compares strings');
  for (const p of ['x', 'y', 'z', 'w']) assert.equal(same(p), sameHashes(a.get(p)!, b.get(p)!), p);
});

test('packed: whole lists are equal exactly when their dictionaries are', () => {
  const base: ArtifactDict = { a: { sha256: '01' }, b: { sha256: '02' } };
  const variants: ArtifactDict[] = [
    { ...base },
    { b: { sha256: '02' }, a: { sha256: '01' } },
    { a: { sha256: '01' } },
    { ...base, b: { sha256: '03' } },
    { ...base, c: {} },
    {},
  ];
  for (const v of variants) {
    const expected = sameArtifactSets(indexArtifacts(base), indexArtifacts(v));
    assert.equal(sameArtifactSets(packedArtifacts(base)!, packedArtifacts(v)!), expected, JSON.stringify(v));
    assert.equal(sameArtifactSets(packedArtifacts(base)!, indexArtifacts(v)), expected, `mixed: ${JSON.stringify(v)}`);
  }
});

test('packed: the ArtifactIndex shortcuts answer for another packed list, and leave any other index to the rules', () => {
  const a = packedArtifacts({ x: { sha256: 'aa' }, y: { sha256: 'bb' } })!;
  const b = packedArtifacts({ x: { sha256: 'aa' }, y: { sha256: 'cc' } })!;
  assert.equal(a.compareDigests(0, 'x', b, 'x'), 'same');
  assert.equal(a.compareDigests(-1, 'y', b, 'y'), 'hash-mismatch');
  assert.equal(a.compareDigests(-1, 'x', b, 'z'), 'not-in-destination');
  assert.equal(a.compareDigests(0, 'x', indexArtifacts({ x: { sha256: 'aa' } }), 'x'), undefined);
  assert.equal(a.sameArtifacts(b), false);
  assert.equal(a.sameArtifacts(packedArtifacts({ x: { sha256: 'aa' }, y: { sha256: 'bb' } })!), true);
  assert.equal(a.sameArtifacts(new Map()), undefined);
  assert.equal(indexArtifacts({}).compareDigests, undefined, 'a plain index has no shortcut: the rules compare digest sets');
});

test('packed: a list a link file could not hold packed is refused by the helper, not misread', () => {
  assert.equal(packedArtifacts({ 'a"b': { sha256: 'aa' } }), undefined, 'an escaped path');
  assert.equal(packedArtifacts({ a: { sha256: 'xyz' } }), undefined, 'not hex');
  assert.equal(packedArtifacts({ a: { sha256: '' } }), undefined, 'empty digest');
});

test('packed: digest objects read back exactly as JSON.parse reads them, odd algorithm names included', () => {
  const dict = JSON.parse(
    '{"a": {"__proto__": "aa", "md5": "bb", "sha256": "CC", "é": "dd"}, "b": {}, "c": {"sha512": "0123456789abcdef"}}',
  ) as ArtifactDict;
  const packed = packedArtifacts(dict)!;
  for (const path of ['a', 'b', 'c']) {
    const got = packed.get(path)!;
    assert.deepEqual(got, dict[path], path);
    assert.deepEqual(Object.keys(got), Object.keys(dict[path]!), `${path}: own keys`);
  }
  assert.equal(Object.getPrototypeOf(packed.get('a')), Object.prototype);
});
