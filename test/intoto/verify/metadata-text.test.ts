import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJsonBytes } from '../../../src/crypto/canonical-json.js';
import { parseStrictJson } from '../../../src/util/strict-json.js';
import { pythonJsonDumps } from '../../../src/intoto/models/python-json.js';
import { signableBytes } from '../../../src/intoto/models/metablock.js';
import type { Link } from '../../../src/intoto/models/types.js';
import { parseSignedMetadata, parseSignedMetadataText, type SignedMetadata } from '../../../src/intoto/verify/metadata.js';
import { seededRandom } from '../../helpers/random.js';

// The fast path (a link made canonical in place, its artifact lists kept packed in those bytes) must give
// exactly what the plain path gives: strict parse, then full validation, then canonical encoding.

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
  const doc = { signatures: [{ keyid: 'ab', sig: 'cd' }], signed };
  const roll = r();
  // sorted as written (the fast path), as well as unsorted and compact (the fallback)
  if (roll < 0.7) return pythonJsonDumps(doc);
  if (roll < 0.85) return JSON.stringify(doc);
  return JSON.stringify({ signed: doc.signed, signatures: doc.signatures }, null, 2);
}

type Outcome = { ok: true; metadata: SignedMetadata } | { ok: false; message: string };

function attempt(f: () => SignedMetadata): Outcome {
  try {
    return { ok: true, metadata: f() };
  } catch (e) {
    return { ok: false, message: (e as Error).message };
  }
}

test('parseSignedMetadataText equals strict parse + validation on random documents, signed bytes included', () => {
  let fast = 0;
  let rejected = 0;
  for (let seed = 1; seed <= 3000; seed++) {
    const text = randomDocument(seededRandom(seed));
    const plain = attempt(() => parseSignedMetadata(parseStrictJson(text, 'f'), 'f'));
    const quick = attempt(() => parseSignedMetadataText(text, 'f'));
    assert.equal(quick.ok, plain.ok, `seed ${seed}: ${text}`);
    if (!quick.ok || !plain.ok) {
      assert.equal((quick as { message: string }).message, (plain as { message: string }).message, `seed ${seed}`);
      rejected++;
      continue;
    }
    assert.deepEqual(quick.metadata.signed, plain.metadata.signed, `seed ${seed}`);
    assert.deepEqual(Object.keys((quick.metadata.signed as Link).materials), Object.keys((plain.metadata.signed as Link).materials), `seed ${seed}: order`);
    const bytes = signableBytes(quick.metadata.signed);
    assert.deepEqual(bytes, canonicalJsonBytes(plain.metadata.signed), `seed ${seed}: signed bytes`);
    if (text.startsWith('{\n "signatures"')) fast++;
  }
  // the generator must exercise both outcomes and the fast path
  assert.ok(fast > 500 && rejected > 300, `fast ${fast}, rejected ${rejected}`);
});

test('a digest the scan cannot vouch for is still refused with the usual message', () => {
  const doc = (digest: unknown) =>
    pythonJsonDumps({
      signatures: [],
      signed: { _type: 'link', byproducts: {}, command: [], environment: {}, materials: { 'a.c': { sha256: digest } }, name: 'x', products: {} },
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
  if (Array.isArray(value)) return value.length === 0 ? '[]' : `[${value.map((v) => pad + sortedJson(v, indent, depth + 1)).join(',')}${close}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    if (keys.length === 0) return '{}';
    const sep = indent === '' ? ':' : ': ';
    return `{${keys.map((k) => `${pad}${JSON.stringify(k)}${sep}${sortedJson((value as Record<string, unknown>)[k], indent, depth + 1)}`).join(',')}${close}}`;
  }
  return JSON.stringify(value);
}

test('parseSignedMetadataText equals the plain path on 4000 byte-level mutations of canonical links', () => {
  const link = {
    _type: 'link',
    name: 'build',
    command: ['cc', '-o', 'a "b"'],
    materials: { 'src/a.c': { sha256: '0a1b' }, 'src/é.c': { md5: 'ff', sha256: 'ABCD' }, 'src/z': {} },
    products: { out: { sha256: '00' }, 'out/\u{1F600}': { sha256: '11' } },
    byproducts: { 'return-value': 0, stderr: 'x\\y', stdout: '' },
    environment: {},
  };
  const texts = [sortedJson({ signatures: [{ keyid: 'ab', sig: 'cd' }], signed: link }, ' '), sortedJson({ signatures: [], signed: link }, '')];
  const alphabet = ['"', '\\', '{', '}', '[', ']', ':', ',', ' ', '\n', '\t', '0', '9', '.', 'e', '-', 'a', 'F', '/', 'é', '\u0001'];
  let packed = 0;
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
    const plain = attempt(() => parseSignedMetadata(parseStrictJson(text, 'f'), 'f'));
    const quick = attempt(() => parseSignedMetadataText(text, 'f'));
    const label = `seed ${seed}: ${JSON.stringify(text)}`;
    assert.equal(quick.ok, plain.ok, label);
    if (!quick.ok || !plain.ok) {
      assert.equal((quick as { message: string }).message, (plain as { message: string }).message, label);
      continue;
    }
    assert.deepEqual(quick.metadata.signed, plain.metadata.signed, label);
    assert.deepEqual(quick.metadata.signatures, plain.metadata.signatures, label);
    assert.deepEqual(signableBytes(quick.metadata.signed), canonicalJsonBytes(plain.metadata.signed), `${label}: signed bytes`);
    if (Object.getOwnPropertyDescriptor(quick.metadata.signed, 'materials')?.get !== undefined) packed++;
  }
  assert.ok(packed > 300, `the packed path took ${packed} of the mutated links`);
});
