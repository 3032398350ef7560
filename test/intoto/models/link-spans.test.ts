import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalMemberFromText } from '../../../src/crypto/canonical-from-text.js';
import { canonicalJsonBytes } from '../../../src/crypto/canonical-json.js';
import { canonicalizeMetadataInPlace } from '../../../src/intoto/models/link-spans.js';
import { pythonJsonDumps } from '../../../src/intoto/models/python-json.js';

test('canonicalizeMetadataInPlace locates the artifact lists that hold only hex digests, entry by entry', () => {
  const doc = (materials: unknown, products: unknown) =>
    pythonJsonDumps({ signatures: [], signed: { _type: 'link', materials, products } });
  const lists = (text: string) => {
    const found = canonicalizeMetadataInPlace(Buffer.from(text, 'utf8'))?.lists;
    return found && { materials: found.materials !== undefined, products: found.products !== undefined };
  };
  assert.deepEqual(lists(doc({ 'a.c': { sha256: '00ffAA' } }, {})), { materials: true, products: true });
  assert.deepEqual(lists(doc({ 'a.c': { sha256: 'xyz' } }, { b: {} })), { materials: false, products: true });
  assert.deepEqual(lists(doc({ 'a.c': { sha256: '' } }, { b: 'ab' })), { materials: false, products: false });
  assert.deepEqual(lists(doc({ 'a.c': [] }, { b: { sha256: 12 } })), { materials: false, products: false });
  assert.deepEqual(lists(doc([], { b: { sha256: 'a\\"b' } })), { materials: false, products: false });
  // only the link's own lists count, not look-alikes deeper down
  assert.deepEqual(lists(pythonJsonDumps({ signed: { environment: { materials: { a: { x: '00' } } } } })), {
    materials: false,
    products: false,
  });
  // a list out of order gives up on the whole document, which is left as it was
  const unsorted =
    '{"signatures": [], "signed": {"_type": "link", "materials": {"b": {"sha256": "00"}, "a": {"sha256": "00"}}, "products": {}}}';
  const bytes = Buffer.from(unsorted);
  assert.equal(canonicalizeMetadataInPlace(bytes), undefined);
  assert.equal(bytes.toString(), unsorted);
  // a DSSE envelope is never read as a metablock, whatever else it holds
  assert.equal(
    canonicalizeMetadataInPlace(Buffer.from(JSON.stringify({ payload: '', payloadType: 'x', signatures: [], signed: {} }))),
    undefined,
  );

  // the offsets: every path and digest object, in the canonical bytes, in order (raw UTF-8 here: the
  // reference writes \u escapes, which send a list the general way)
  const list = { 'a.c': { md5: 'ff', sha256: '00' }, 'é/b': {} };
  const text = JSON.stringify({ signatures: [], signed: { _type: 'link', materials: list, products: {} } }, null, 1);
  const found = canonicalizeMetadataInPlace(Buffer.from(text, 'utf8'))!;
  assert.deepEqual(found.bytes.subarray(found.signedStart, found.signedEnd), canonicalMemberFromText(Buffer.from(text, 'utf8'), 'signed'));
  assert.equal(found.bytes.toString(), canonicalJsonBytes(JSON.parse(text)).toString(), 'the whole document is canonical');
  const span = found.lists.materials!;
  assert.equal(span.count, 2);
  const at = (s: number, e: number) => found.bytes.toString('utf8', s, e);
  assert.equal(at(span.start, span.end), '{"a.c":{"md5":"ff","sha256":"00"},"é/b":{}}');
  assert.deepEqual([at(span.entries[0]!, span.entries[1]!), at(span.entries[2]!, span.entries[3]!)], ['a.c', '{"md5":"ff","sha256":"00"}']);
  assert.deepEqual([at(span.entries[4]!, span.entries[5]!), at(span.entries[6]!, span.entries[7]!)], ['é/b', '{}']);
  assert.equal(canonicalizeMetadataInPlace(Buffer.from(doc({ 'é/b': {} }, {})))?.lists.materials, undefined);
});
