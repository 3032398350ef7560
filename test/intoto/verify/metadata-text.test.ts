import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJsonBytes } from '../../../src/crypto/canonical-json.js';
import { generatePrivateKey } from '../../../src/crypto/key-files.js';
import { parseStrictJson } from '../../../src/util/strict-json.js';
import { pythonJsonDumps } from '../../../src/intoto/models/python-json.js';
import { signableBytes } from '../../../src/intoto/models/metablock.js';
import type { Layout, Link } from '../../../src/intoto/models/types.js';
import { PackedArtifacts } from '../../../src/intoto/rules/packed-artifacts.js';
import type { IndexedLink } from '../../../src/intoto/verify/indexed-link.js';
import {
  loadSignedMetadataBytes,
  parseSignedMetadata,
  parseSignedMetadataText,
  type LoadedMetadata,
  type SignedMetadata,
} from '../../../src/intoto/verify/metadata.js';
import { dictOf } from '../../helpers/packed.js';
import { seededRandom } from '../../helpers/random.js';

// The fast path (a link made canonical in place, its artifact lists kept packed in those bytes) must give
// exactly what the plain path gives: strict parse, then full validation, then canonical encoding. Both
// forms of it are compared: the plain Link parseSignedMetadataText returns, and the IndexedLink that
// verification loads (loadSignedMetadataBytes), whose lists are read through the ArtifactIndex interface.

/** Signs every generated document, so that whether a key signed it compares the bytes each path checks. */
const KEY = generatePrivateKey('ed25519');
const signature = (signed: unknown) => ({ keyid: KEY.keyid, sig: KEY.sign(canonicalJsonBytes(signed)) });

const PATHS = ['a', 'b.c', 'src/x.c', 'Z', '__proto__', 'constructor', 'é/ü', 'a"q', 'back\\slash', '0', '12', 'tab\there', 'z/y'];
const DIGESTS: unknown[] = ['00ff', 'ABCDEF0123', 'abc', '', 'xyz', 'ab cd', 7, null, ['ab'], { x: 'ab' }, 'ab\u00e9'];

function randomArtifacts(r: () => number): unknown {
  const roll = r();
  if (roll < 0.05) return ['not', 'a dict'];
  if (roll < 0.08) return 'text';
  const out: Record<string, unknown> = {};
  const n = Math.floor(r() * 5);
  for (let i = 0; i < n; i++) {
    const path = PATHS[Math.floor(r() * PATHS.length)]!;
    const shape = r();
    if (shape < 0.08) out[path] = DIGESTS[Math.floor(r() * DIGESTS.length)];
    else {
      const hashes: Record<string, unknown> = {};
      const m = Math.floor(r() * 3);
      for (let j = 0; j < m; j++) {
        const alg = ['sha256', 'sha512', 'md5'][Math.floor(r() * 3)]!;
        hashes[alg] = r() < 0.8 ? ['0a1b', 'deadBEEF', 'f'][Math.floor(r() * 3)] : DIGESTS[Math.floor(r() * DIGESTS.length)];
      }
      out[path] = hashes;
    }
  }
  return out;
}

function randomDocument(r: () => number): string {
  const signed: Record<string, unknown> = {
    _type: r() < 0.95 ? 'link' : 'layout',
    name: 'build',
    command: ['make'],
    materials: randomArtifacts(r),
    products: randomArtifacts(r),
    byproducts: { 'return-value': 0, stdout: '', stderr: r() < 0.5 ? 'x\ny' : '' },
    environment: r() < 0.9 ? {} : { materials: { a: 'not hex' } },
  };
  if (r() < 0.1) delete signed.materials;
  if (r() < 0.05) signed.extra = 1;
  const doc = { signatures: [signature(signed)], signed };
  const roll = r();
  // sorted as written (the fast path), as well as unsorted and compact (the fallback)
  if (roll < 0.7) return pythonJsonDumps(doc);
  if (roll < 0.85) return JSON.stringify(doc);
  return JSON.stringify({ signed: doc.signed, signatures: doc.signatures }, null, 2);
}

type Outcome<T> = { ok: true; metadata: T } | { ok: false; message: string };

function attempt<T>(f: () => T): Outcome<T> {
  try {
    return { ok: true, metadata: f() };
  } catch (e) {
    return { ok: false, message: (e as Error).message };
  }
}

/** The three ways to read `text`: strict parse and validation, the public fast path, verification's. */
function readAll(text: string) {
  return {
    plain: attempt(() => parseSignedMetadata(parseStrictJson(text, 'f'), 'f')),
    quick: attempt(() => parseSignedMetadataText(text, 'f')),
    loaded: attempt(() => loadSignedMetadataBytes(Buffer.from(text, 'utf8'), 'f')),
  };
}

/** What was read, as plain data: an IndexedLink's lists read back through the ArtifactIndex interface. */
function plainOf(signed: IndexedLink | Link | Layout): Link | Layout {
  if (!('artifacts' in signed)) return signed;
  const { artifacts, ...fields } = signed;
  return { ...fields, command: [...fields.command], materials: dictOf(artifacts.materials), products: dictOf(artifacts.products) } as Link;
}

/** Every comparison of one document's outcomes; `label` names it in a failure. */
function assertSame(outcomes: ReturnType<typeof readAll>, label: string): void {
  const { plain, quick, loaded } = outcomes;
  assert.equal(quick.ok, plain.ok, label);
  assert.equal(loaded.ok, plain.ok, label);
  if (!quick.ok || !plain.ok || !loaded.ok) {
    const message = (plain as { message: string }).message;
    assert.equal((quick as { message: string }).message, message, label);
    assert.equal((loaded as { message: string }).message, message, label);
    return;
  }
  const expected = plain.metadata;
  for (const got of [quick.metadata, loaded.metadata] as (SignedMetadata | LoadedMetadata)[]) {
    assert.deepEqual(plainOf(got.signed), expected.signed, label);
    assert.deepEqual(got.signatures, expected.signatures, label);
    assert.equal(got.format, expected.format, label);
    assert.equal(got.signedBy(KEY.publicKey), expected.signedBy(KEY.publicKey), `${label}: signed by the key`);
  }
  const link = quick.metadata.signed;
  if (link._type === 'link') {
    assert.deepEqual(Object.keys(link.materials), Object.keys((expected.signed as Link).materials), `${label}: order`);
    // a Link is plain data: no accessors standing in for its lists
    assert.ok(
      Object.values(Object.getOwnPropertyDescriptors(link)).every((d) => 'value' in d),
      `${label}: plain data`,
    );
  }
  assert.deepEqual(signableBytes(quick.metadata.signed), canonicalJsonBytes(expected.signed), `${label}: signed bytes`);
}

/** Whether verification holds the document's lists packed (the fast path was taken all the way). */
function isPacked(outcome: Outcome<LoadedMetadata>): boolean {
  return outcome.ok && outcome.metadata.signed._type === 'link' && outcome.metadata.signed.artifacts.materials instanceof PackedArtifacts;
}

test('the fast paths equal strict parse + validation on random documents, signed bytes included', () => {
  let fast = 0;
  let packed = 0;
  let rejected = 0;
  let signed = 0;
  for (let seed = 1; seed <= 3000; seed++) {
    const text = randomDocument(seededRandom(seed));
    const outcomes = readAll(text);
    assertSame(outcomes, `seed ${seed}: ${text}`);
    if (!outcomes.plain.ok) rejected++;
    else if (outcomes.plain.metadata.signedBy(KEY.publicKey)) signed++;
    if (text.startsWith('{\n "signatures"')) fast++;
    if (isPacked(outcomes.loaded)) packed++;
  }
  // the generator must exercise both outcomes, the fast path and packing
  assert.ok(
    fast > 500 && packed > 100 && rejected > 300 && signed > 500,
    `fast ${fast}, packed ${packed}, rejected ${rejected}, validly signed ${signed}`,
  );
});

test('a digest the scan cannot vouch for is still refused with the usual message', () => {
  const doc = (digest: unknown) =>
    pythonJsonDumps({
      signatures: [],
      signed: {
        _type: 'link',
        byproducts: {},
        command: [],
        environment: {},
        materials: { 'a.c': { sha256: digest } },
        name: 'x',
        products: {},
      },
    });
  assert.throws(() => parseSignedMetadataText(doc('not hex'), 'f'), /materials\["a.c"\]\.sha256: must be a hex digest, not "not hex"/);
  assert.throws(() => parseSignedMetadataText(doc(''), 'f'), /must be a hex digest, not ""/);
  assert.throws(() => parseSignedMetadataText(doc(12), 'f'), /must be a hex digest, not 12/);
  assert.equal(parseSignedMetadataText(doc('00AAff'), 'f').signed._type, 'link');
});

/** JSON with keys sorted and raw UTF-8 (no \u escapes), as a canonical writer other than the reference's might write it. */
function sortedJson(value: unknown, indent: string, depth = 0): string {
  const pad = indent === '' ? '' : `\n${indent.repeat(depth + 1)}`;
  const close = indent === '' ? '' : `\n${indent.repeat(depth)}`;
  if (Array.isArray(value))
    return value.length === 0 ? '[]' : `[${value.map((v) => pad + sortedJson(v, indent, depth + 1)).join(',')}${close}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    if (keys.length === 0) return '{}';
    const sep = indent === '' ? ':' : ': ';
    return `{${keys.map((k) => `${pad}${JSON.stringify(k)}${sep}${sortedJson((value as Record<string, unknown>)[k], indent, depth + 1)}`).join(',')}${close}}`;
  }
  return JSON.stringify(value);
}

test('the fast paths equal the plain path on 4000 byte-level mutations of canonical links', () => {
  const link = {
    _type: 'link',
    name: 'build',
    command: ['cc', '-o', 'a "b"'],
    materials: { 'src/a.c': { sha256: '0a1b' }, 'src/é.c': { md5: 'ff', sha256: 'ABCD' }, 'src/z': {} },
    products: { out: { sha256: '00' }, 'out/\u{1F600}': { sha256: '11' } },
    byproducts: { 'return-value': 0, stderr: 'x\\y', stdout: '' },
    environment: {},
  };
  const texts = [sortedJson({ signatures: [signature(link)], signed: link }, ' '), sortedJson({ signatures: [], signed: link }, '')];
  const alphabet = ['"', '\\', '{', '}', '[', ']', ':', ',', ' ', '\n', '\t', '0', '9', '.', 'e', '-', 'a', 'F', '/', 'é', '\u0001'];
  let packed = 0;
  let signed = 0;
  for (let seed = 1; seed <= 4000; seed++) {
    const r = seededRandom(seed);
    // one to three edits: replace, insert or delete a character (a code point: a file holds no half of one)
    const chars = [...texts[seed % texts.length]!];
    for (let k = 1 + Math.floor(r() * 3); k > 0; k--) {
      const at = Math.floor(r() * chars.length);
      const ch = alphabet[Math.floor(r() * alphabet.length)]!;
      const op = r();
      if (op < 0.4) chars[at] = ch;
      else if (op < 0.8) chars.splice(at, 0, ch);
      else chars.splice(at, 1);
    }
    const text = chars.join('');
    const outcomes = readAll(text);
    assertSame(outcomes, `seed ${seed}: ${JSON.stringify(text)}`);
    if (isPacked(outcomes.loaded)) packed++;
    if (isPacked(outcomes.loaded) && outcomes.loaded.ok && outcomes.loaded.metadata.signedBy(KEY.publicKey)) signed++;
  }
  assert.ok(packed > 300, `the packed path took ${packed} of the mutated links`);
  assert.ok(signed > 100, `${signed} packed links still carried a valid signature`);
});

test('a link read from canonical text is a plain Link; verification holds its lists packed in an IndexedLink', () => {
  const link: Link = {
    _type: 'link',
    name: 'build',
    command: ['make'],
    materials: { 'a.c': { sha256: '00' } },
    products: { 'a.o': { sha256: 'ff' } },
    byproducts: {},
    environment: {},
  };
  const text = pythonJsonDumps({ signatures: [signature(link)], signed: link });
  const parsed = parseSignedMetadataText(text, 'f').signed as Link;
  for (const field of ['materials', 'products'] as const) {
    assert.ok('value' in Object.getOwnPropertyDescriptor(parsed, field)!, `${field} is a data property, not an accessor`);
  }
  assert.deepEqual({ ...parsed }, link);

  const loaded = loadSignedMetadataBytes(Buffer.from(text, 'utf8'), 'f');
  const indexed = loaded.signed as IndexedLink;
  assert.ok(indexed.artifacts.materials instanceof PackedArtifacts && indexed.artifacts.products instanceof PackedArtifacts);
  assert.equal('materials' in indexed, false, 'not a Link: its lists are only reached through `artifacts`');
  assert.ok(loaded.signedBy(KEY.publicKey));
  // serialized, the packed lists read as the dictionaries they stand for
  const { materials, products, ...fields } = link;
  assert.deepEqual(JSON.parse(JSON.stringify(indexed)), { ...fields, artifacts: { materials, products } });
});
