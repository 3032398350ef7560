import { test } from 'node:test';
import { execFile } from '../../helpers/child-process.js';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPublicKey } from '../../../src/crypto/key-files.js';
import { EvidentError } from '../../../src/errors.js';
import { parseLink, linkFileName } from '../../../src/intoto/models/link.js';
import {
  loadMetadataFile,
  parseMetadata,
  serializeMetablock,
  signLinkEnvelope,
  signMetablock,
  verifyMetablockSignature,
  verifyMetadataSignature,
  writeMetadataFile,
} from '../../../src/intoto/models/metablock.js';
import { ValidationError } from '../../../src/intoto/models/problems.js';
import { runReferenceCli, runReferencePython, skipUnlessReference } from '../../helpers/reference.js';
import { alice, bob, json, validLayout, validLink, type Loose } from './fixtures.js';

const execFileP = promisify(execFile);

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'evident-metablock-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('sign, verify, append semantics', () => {
  const layout = validLayout();
  const one = signMetablock(layout, [alice]);
  assert.equal(one.signatures.length, 1);
  assert.ok(verifyMetablockSignature(one, alice.publicKey));
  assert.equal(verifyMetablockSignature(one, bob.publicKey), false, 'no signature by bob');
  const two = signMetablock(layout, [bob], one.signatures);
  assert.deepEqual(
    two.signatures.map((s) => s.keyid),
    [alice.keyid, bob.keyid],
  );
  const again = signMetablock(layout, [alice], two.signatures);
  assert.deepEqual(
    again.signatures.map((s) => s.keyid),
    [bob.keyid, alice.keyid],
    're-signing replaces, never duplicates',
  );
  const tampered = { ...two, signed: { ...layout, readme: 'changed' } };
  assert.equal(verifyMetablockSignature(tampered, alice.publicKey), false);
});

test('only the first signature with the keyid counts, as in the reference', () => {
  const mb = signMetablock(validLink(), [alice]);
  const bad = { ...mb, signatures: [{ keyid: alice.keyid, sig: '00'.repeat(64) }, ...mb.signatures] };
  assert.equal(verifyMetablockSignature(bad, alice.publicKey), false);
});

test('parseMetadata refuses unknown fields, bad signatures and unknown types, collecting them', () => {
  const mb = json(signMetablock(validLink(), [alice])) as Loose;
  mb.extra = true;
  mb.signatures[0].sig = 'not hex';
  mb.signed.materials['a'] = { sha256: 'xyz' };
  assert.throws(
    () => parseMetadata(mb, 'x.link'),
    (e: unknown) =>
      e instanceof ValidationError &&
      e.file === 'x.link' &&
      e.problems.length === 3 &&
      e.problems.includes('extra: unknown field (expected one of: signed, signatures)') &&
      e.problems.includes('signatures[0].sig: must be a hex signature, not "not hex"') &&
      e.problems.includes('materials["a"].sha256: must be a hex digest, not "xyz"'),
  );
  assert.throws(() => parseMetadata({ signed: { _type: 'thing' }, signatures: [] }), /_type: must be a link or a layout/);
  assert.throws(() => parseMetadata([]), /in-toto metadata is a JSON object/);
});

test('link defaults and name checks', () => {
  assert.deepEqual(parseLink({ _type: 'link', name: 'x' }), {
    _type: 'link',
    name: 'x',
    command: [],
    materials: {},
    products: {},
    byproducts: {},
    environment: {},
  });
  assert.throws(() => parseLink({ _type: 'link', name: 'a/b' }), /name: 'a\/b' must not contain '\/'/);
  assert.throws(() => parseLink({ _type: 'link' }), /name: is missing/);
  assert.throws(() => parseLink({ _type: 'link', name: 'x', products: [] }), /products: must be an object of artifact/);
  assert.equal(linkFileName('build', alice.keyid), `build.${alice.keyid.slice(0, 8)}.link`);
});

test('loadMetadataFile: floats, oversized files, bad UTF-8 are refused before use', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'root.layout');
  await writeFile(file, '{"signed": {"_type": "layout", "threshold": 1.0}, "signatures": []}');
  await assert.rejects(
    loadMetadataFile(file, { displayName: 'root.layout' }),
    (e: unknown) => e instanceof EvidentError && e.code === 'BAD_INPUT' && e.file === 'root.layout' && /not an integer/.test(e.message),
  );
  await writeFile(file, serializeMetablock(signMetablock(validLayout(), [alice])));
  await assert.rejects(loadMetadataFile(file, { maxBytes: 100 }), (e: unknown) => e instanceof EvidentError && e.code === 'TOO_LARGE');
  await writeFile(file, Buffer.from([0x7b, 0xff, 0x7d]));
  await assert.rejects(loadMetadataFile(file), /not valid UTF-8/);
  await execFileP('mkfifo', [join(dir, 'fifo.link')]);
  await assert.rejects(loadMetadataFile(join(dir, 'fifo.link'), { displayName: 'fifo.link' }), {
    code: 'BAD_INPUT',
    file: 'fifo.link',
    message: 'is not a regular file (a FIFO)',
  });
  await assert.rejects(loadMetadataFile(dir), { code: 'BAD_INPUT', message: 'is a directory, not a file' });
});

test('a metablock round-trips through a file', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'root.layout');
  const mb = signMetablock(validLayout(), [alice, bob]);
  await writeMetadataFile(file, mb);
  const loaded = await loadMetadataFile(file);
  assert.equal(loaded.format, 'metablock');
  assert.deepEqual(loaded.format === 'metablock' && loaded.metablock, mb);
  assert.ok(verifyMetadataSignature(loaded, alice.publicKey) && verifyMetadataSignature(loaded, bob.publicKey));
});

test('DSSE envelopes of a Statement v1 link predicate load as links, signatures stay on the envelope', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'build.link');
  const link = validLink();
  await writeMetadataFile(file, signLinkEnvelope(link, [alice]));
  const loaded = await loadMetadataFile(file);
  assert.equal(loaded.format, 'dsse');
  if (loaded.format !== 'dsse') return;
  assert.deepEqual(loaded.link, link);
  assert.ok(verifyMetadataSignature(loaded, alice.publicKey));
  assert.equal(verifyMetadataSignature(loaded, bob.publicKey), false);
  const otherPredicate = {
    ...loaded.envelope,
    payload: Buffer.from(
      JSON.stringify({
        _type: 'https://in-toto.io/Statement/v1',
        subject: [],
        predicateType: 'https://slsa.dev/provenance/v1',
        predicate: {},
      }),
    ).toString('base64'),
  };
  assert.throws(
    () => parseMetadata(otherPredicate, 'p.json'),
    /payload\.predicateType: must be "https:\/\/in-toto\.io\/attestation\/link\/v0\.3"/,
  );
  assert.throws(
    () => parseMetadata({ ...loaded.envelope, payloadType: 'text/plain' }),
    /payloadType must be "application\/vnd\.in-toto\+json"/,
  );
});

test('a DSSE link made with src/attestation (what evident run --format dsse writes) loads as the same link', async () => {
  const { signEnvelope } = await import('../../../src/crypto/dsse.js');
  const attestation = await import('../../../src/attestation/index.js');
  const link = validLink();
  const payload = Buffer.from(JSON.stringify(attestation.linkToStatement(link)));
  const loaded = parseMetadata(JSON.parse(JSON.stringify(signEnvelope(attestation.INTOTO_PAYLOAD_TYPE, payload, [alice]))), 'build.link');
  assert.deepEqual(loaded.format === 'dsse' && loaded.link, link);
  assert.ok(verifyMetadataSignature(loaded, alice.publicKey));
});

test('a DSSE envelope whose payload is the link itself (as in-toto-golang writes) loads too', async () => {
  const { signEnvelope } = await import('../../../src/crypto/dsse.js');
  const { canonicalJsonBytes } = await import('../../../src/crypto/canonical-json.js');
  const env = signEnvelope('application/vnd.in-toto+json', canonicalJsonBytes(validLink()), [bob]);
  const loaded = parseMetadata(JSON.parse(JSON.stringify(env)), 'golang.link');
  assert.equal(loaded.format, 'dsse');
  assert.deepEqual(loaded.format === 'dsse' && loaded.link, validLink());
  assert.ok(verifyMetadataSignature(loaded, bob.publicKey));
});

test('metadata written and signed by the reference loads, verifies, and re-serializes byte for byte', async (t) => {
  if (skipUnlessReference(t)) return;
  const dir = await tempDir(t);
  for (const type of ['ed25519', 'ecdsa', 'rsa']) {
    const keygen = await runReferenceCli('in-toto-keygen', ['-t', type, join(dir, `k-${type}`)], { cwd: dir });
    assert.equal(keygen.code, 0, keygen.stderr);
  }
  await writeFile(join(dir, 'src.c'), 'int main(){}\n');
  await writeFile(join(dir, 'ünïcödé "q".txt'), 'x');
  // a link per key type, by in-toto-run
  for (const type of ['ed25519', 'ecdsa', 'rsa']) {
    const run = await runReferenceCli(
      'in-toto-run',
      ['-n', `build-${type}`, '-k', `k-${type}`, '-t', type, '-m', '.', '-p', 'src.c', '--', 'echo', 'héllo 😀 "x"'],
      { cwd: dir },
    );
    assert.equal(run.code, 0, run.stderr);
  }
  // a layout, by the reference's API
  await runReferencePython(
    `import os
from securesystemslib.interface import import_ed25519_privatekey_from_file, import_ed25519_publickey_from_file
from in_toto.models.layout import Layout, Step, Inspection
from in_toto.models.metadata import Metablock
key = import_ed25519_privatekey_from_file("k-ed25519")
pub = import_ed25519_publickey_from_file("k-ed25519.pub")
layout = Layout(readme="réadme ☃")
layout.set_relative_expiration(months=3)
layout.add_functionary_key(pub)
step = Step(name="build", pubkeys=[pub["keyid"]], threshold=1)
step.set_expected_command_from_string("cc -o 'a b' src.c")
step.add_material_rule_from_string("MATCH src.c WITH PRODUCTS FROM code")
step.add_product_rule_from_string("CREATE 'a b'")
layout.steps.append(step)
ins = Inspection(name="untar")
ins.set_run_from_string("tar xf x.tar")
ins.add_material_rule_from_string("ALLOW *")
layout.inspect.append(ins)
mb = Metablock(signed=layout)
mb.sign(key)
mb.dump("root.layout")`,
    { cwd: dir },
  );
  const files = (await readdir(dir)).filter((f) => f.endsWith('.link') || f.endsWith('.layout'));
  assert.equal(files.length, 4, files.join(', '));
  for (const f of files) {
    const type = f === 'root.layout' ? 'ed25519' : /build-(\w+)\./.exec(f)![1]!;
    const key = await loadPublicKey(join(dir, `k-${type}.pub`));
    const loaded = await loadMetadataFile(join(dir, f));
    assert.equal(loaded.format, 'metablock');
    if (loaded.format !== 'metablock') return;
    assert.ok(verifyMetadataSignature(loaded, key), `${f}: the reference's signature verifies`);
    assert.equal(serializeMetablock(loaded.metablock), await readFile(join(dir, f), 'utf8'), `${f}: byte for byte`);
    // and evident's own signature is the one the reference would make (ed25519 is deterministic)
    if (type === 'ed25519') {
      const priv = (await import('../../../src/crypto/key-files.js')).loadPrivateKey(join(dir, 'k-ed25519'));
      assert.deepEqual(signMetablock(loaded.metablock.signed, [await priv]).signatures, loaded.metablock.signatures);
    }
  }
  const link = await loadMetadataFile(join(dir, linkFileName('build-ed25519', (await loadPublicKey(join(dir, 'k-ed25519.pub'))).keyid)));
  assert.ok(link.format === 'metablock' && link.metablock.signed._type === 'link' && 'ünïcödé "q".txt' in link.metablock.signed.materials);
});
