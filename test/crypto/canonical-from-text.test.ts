import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalizeInPlace, canonicalMemberFromText } from '../../src/crypto/canonical-from-text.js';
import { canonicalJsonBytes } from '../../src/crypto/canonical-json.js';
import { pythonJsonDumps } from '../../src/intoto/models/python-json.js';

const fast = (text: string) => canonicalMemberFromText(Buffer.from(text, 'utf8'), 'signed');

test('a sorted document gives the canonical bytes of its member, whitespace dropped', () => {
  const doc = { signatures: [{ keyid: 'ab', sig: 'cd' }], signed: { _type: 'link', a: [1, -2, true, null, 'x\\"y'], b: { c: {} , d: [] } } };
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

test('canonicalizeInPlace locates the artifact lists that hold only hex digests, entry by entry', () => {
  const doc = (materials: unknown, products: unknown) => pythonJsonDumps({ signatures: [], signed: { _type: 'link', materials, products } });
  const lists = (text: string) => {
    const found = canonicalizeInPlace(Buffer.from(text, 'utf8'))?.lists;
    return found && { materials: found.materials !== undefined, products: found.products !== undefined };
  };
  assert.deepEqual(lists(doc({ 'a.c': { sha256: '00ffAA' } }, {})), { materials: true, products: true });
  assert.deepEqual(lists(doc({ 'a.c': { sha256: 'xyz' } }, { b: {} })), { materials: false, products: true });
  assert.deepEqual(lists(doc({ 'a.c': { sha256: '' } }, { b: 'ab' })), { materials: false, products: false });
  assert.deepEqual(lists(doc({ 'a.c': [] }, { b: { sha256: 12 } })), { materials: false, products: false });
  assert.deepEqual(lists(doc([], { b: { sha256: 'a\\"b' } })), { materials: false, products: false });
  // only the link's own lists count, not look-alikes deeper down
  assert.deepEqual(lists(pythonJsonDumps({ signed: { environment: { materials: { a: { x: '00' } } } } })), { materials: false, products: false });
  const unsorted = Buffer.from('{"signed": {"b": 1, "a": 2}}');
  assert.equal(canonicalizeInPlace(unsorted), undefined);
  assert.equal(unsorted.toString(), '{"signed": {"b": 1, "a": 2}}', 'a text it gives up on is left as it was');

  // the offsets: every path and digest object, in the canonical bytes, in order (raw UTF-8 here: the
  // reference writes \u escapes, which send a list the general way)
  const list = { 'a.c': { md5: 'ff', sha256: '00' }, 'é/b': {} };
  const text = JSON.stringify({ signatures: [], signed: { _type: 'link', materials: list, products: {} } }, null, 1);
  const found = canonicalizeInPlace(Buffer.from(text, 'utf8'))!;
  assert.deepEqual(found.bytes.subarray(found.signedStart, found.signedEnd), fast(text));
  assert.equal(found.bytes.toString(), canonicalJsonBytes(JSON.parse(text)).toString(), 'the whole document is canonical');
  const span = found.lists.materials!;
  assert.equal(span.count, 2);
  const at = (s: number, e: number) => found.bytes.toString('utf8', s, e);
  assert.equal(at(span.start, span.end), '{"a.c":{"md5":"ff","sha256":"00"},"é/b":{}}');
  assert.deepEqual([at(span.entries[0]!, span.entries[1]!), at(span.entries[2]!, span.entries[3]!)], ['a.c', '{"md5":"ff","sha256":"00"}']);
  assert.deepEqual([at(span.entries[4]!, span.entries[5]!), at(span.entries[6]!, span.entries[7]!)], ['é/b', '{}']);
  assert.equal(canonicalizeInPlace(Buffer.from(doc({ 'é/b': {} }, {})))?.lists.materials, undefined);
});
