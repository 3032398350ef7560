import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalizeInPlace, canonicalMemberFromText, NOT_CANONICAL } from '../../src/crypto/canonical-from-text.js';
import { canonicalJsonBytes } from '../../src/crypto/canonical-json.js';
import { pythonJsonDumps } from '../../src/intoto/models/python-json.js';

const fast = (text: string) => canonicalMemberFromText(Buffer.from(text, 'utf8'), 'signed');

test('a sorted document gives the canonical bytes of its member, whitespace dropped', () => {
  const doc = { signatures: [{ keyid: 'ab', sig: 'cd' }], signed: { _type: 'link', a: [1, -2, true, null, 'x\\"y'], b: { c: {}, d: [] } } };
  const text = pythonJsonDumps(doc);
  assert.equal(fast(text)?.toString('utf8'), canonicalJsonBytes(doc.signed).toString('utf8'));
  assert.equal(fast('{"signed":{}}')?.toString(), '{}');
  assert.equal(fast('{"other": 1}'), undefined);
});

test('anything canonical JSON would rewrite falls back to the full encoder', () => {
  for (const text of [
    '{"signed": {"b": 1, "a": 2}}', // unsorted
    '{"signed": {"a": 1, "a": 2}}', // duplicate key
    '{"signed": {"a": "\\u00e9"}}', // escape canonical JSON writes raw
    '{"signed": {"a": "x\\ny"}}', // \n escape
    '{"signed": {"a\\"": 1, "a#": 2}}', // escaped key: decoded order differs
    '{"signed": {"a": -0}}',
    '{"signed": {"a": 1}, "signed": {"a": 2}}',
    '{"signed": {"a": 1}} trailing',
    '{"signed": {"a": tru}}',
    '{"signed": {"a": [1,]}}',
    '{"signed": {"a": "raw\ttab"}}',
  ]) {
    assert.equal(fast(text), undefined, text);
  }
});

test('floats and unsafe integers are refused as parseStrictJson refuses them', () => {
  assert.throws(() => fast('{"signed": {"a": 1.0}}'), /number 1.0 is not an integer/);
  assert.throws(() => fast('{"signed": {"a": 1e3}}'), /not an integer/);
  assert.throws(() => fast('{"signed": {"a": 18446744073709551616}}'), /too large/);
});

test('property: whenever it answers, the answer equals canonical JSON of the parsed member', () => {
  let seed = 42;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const alphabet = ['a', 'b', 'Z', '0', ' ', '"', '\\', 'é', '日', '🎉', '\n', '/', '-', '\u007f', '\u2028'];
  const str = () => Array.from({ length: rand(5) }, () => alphabet[rand(alphabet.length)]).join('');
  const value = (depth: number): unknown => {
    const kind = rand(depth > 3 ? 4 : 6);
    if (kind === 0) return str();
    if (kind === 1) return rand(2) ? rand(1e6) - 5e5 : [true, false, null][rand(3)];
    if (kind === 2) return rand(3) === 0 ? 9007199254740991 : rand(100);
    if (kind === 3) return str();
    if (kind === 4) return Array.from({ length: rand(4) }, () => value(depth + 1));
    return Object.fromEntries(Array.from({ length: rand(5) }, () => [str(), value(depth + 1)]));
  };
  let answered = 0;
  for (let i = 0; i < 3000; i++) {
    const signed = value(0);
    const text = rand(2) ? pythonJsonDumps({ signatures: [], signed }) : JSON.stringify({ signed, signatures: [] }, null, rand(3));
    const result = fast(text);
    if (result === undefined) continue;
    answered++;
    assert.equal(result.toString('utf8'), canonicalJsonBytes((JSON.parse(text) as { signed: unknown }).signed).toString('utf8'), text);
  }
  assert.ok(answered > 500, `the fast path answered ${answered} of 3000`);
});

test('canonicalizeInPlace drops the whitespace in place and locates the member; a text it gives up on is left as it was', () => {
  const unsorted = Buffer.from('{"signed": {"b": 1, "a": 2}}');
  assert.equal(canonicalizeInPlace(unsorted, { member: 'signed' }), undefined);
  assert.equal(unsorted.toString(), '{"signed": {"b": 1, "a": 2}}', 'a text it gives up on is left as it was');

  const text = JSON.stringify({ other: [1, { x: 'é' }], signed: { _type: 'link', a: { 'a.c': { md5: 'ff' } }, b: {} } }, null, 1);
  const found = canonicalizeInPlace(Buffer.from(text, 'utf8'), { member: 'signed' })!;
  assert.deepEqual(found.bytes.subarray(found.memberStart, found.memberEnd), fast(text));
  assert.equal(found.bytes.toString(), canonicalJsonBytes(JSON.parse(text)).toString(), 'the whole document is canonical');
  assert.equal(
    canonicalizeInPlace(Buffer.from(text, 'utf8'), { member: 'signed', giveUpOn: ['other'] }),
    undefined,
    'a member that marks another kind of document',
  );
});

test("canonicalizeInPlace offers the located object's members to a value scanner, which may take one or leave it", () => {
  const text = JSON.stringify({ signed: { a: [1, 2], b: { x: 1 }, c: 'q' }, z: { a: 1 } }, null, 2);
  const offered: string[] = [];
  const found = canonicalizeInPlace(Buffer.from(text, 'utf8'), {
    member: 'signed',
    scanMemberValue: (b, ks, ke, pos, out) => {
      offered.push(b.toString('utf8', ks, ke));
      if (b.toString('utf8', ks, ke) !== 'c') return undefined;
      // "q": three bytes in and out
      assert.equal(b.toString('utf8', pos, pos + 3), '"q"');
      return { pos: pos + 3, out: out + 3 };
    },
  })!;
  assert.deepEqual(offered, ['a', 'b', 'c'], 'the members of the located object only, in order');
  assert.equal(found.bytes.toString(), canonicalJsonBytes(JSON.parse(text)).toString());
  const refusing = () => {
    throw NOT_CANONICAL;
  };
  assert.equal(
    canonicalizeInPlace(Buffer.from(text, 'utf8'), { member: 'signed', scanMemberValue: refusing }),
    undefined,
    'a scanner gives up for the whole document',
  );
});
