import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePrivateKey, saveKeyPair } from '../../src/crypto/key-files.js';
import type { KeyType } from '../../src/crypto/key-dict.js';
import type { PrivateKey } from '../../src/crypto/keys.js';
import { linkFileName } from '../../src/intoto/models/link.js';
import { loadMetadataFile, signMetablock, writeMetadataFile } from '../../src/intoto/models/metablock.js';
import type { Link } from '../../src/intoto/models/types.js';
import { runCli } from '../helpers/cli.js';
import { runReferenceCli, skipUnlessReference } from '../helpers/reference.js';

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'evident-layout-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const SPEC = `expires: 30d
readme: interop
keys:
  builder: keys/builder.pub
steps:
  - name: build
    functionaries: [builder]
    command: cc -o hello "src/hello.c"
    materials: [ALLOW src/hello.c, DISALLOW *]
    products: [CREATE hello, DISALLOW *]
inspections:
  - name: check
    run: "true"
    materials: [MATCH hello WITH PRODUCTS FROM build, DISALLOW hello, ALLOW *]
    products: [ALLOW *]
`;

const sha256 = async (path: string) =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

/** A directory with keys, the spec, the sources and the product, as a pipeline would leave it. */
async function pipeline(
  dir: string,
  type: KeyType,
  ownerFormat: 'pem' | 'securesystemslib',
): Promise<{ builder: PrivateKey; owner: PrivateKey }> {
  await mkdir(join(dir, 'keys'));
  await mkdir(join(dir, 'src'));
  const builder = generatePrivateKey(type, { bits: 2048 });
  const owner = generatePrivateKey(type, { bits: 2048 });
  await saveKeyPair(builder, join(dir, 'keys/builder'));
  await saveKeyPair(owner, join(dir, 'owner'), { format: ownerFormat });
  await writeFile(join(dir, 'root.yaml'), SPEC);
  await writeFile(join(dir, 'src/hello.c'), 'int main(void) { return 0; }\n');
  await writeFile(join(dir, 'hello'), 'binary\n');
  return { builder, owner };
}

async function writeLink(dir: string, builder: PrivateKey): Promise<string> {
  const link: Link = {
    _type: 'link',
    name: 'build',
    command: ['cc', '-o', 'hello', 'src/hello.c'],
    materials: { 'src/hello.c': { sha256: await sha256(join(dir, 'src/hello.c')) } },
    products: { hello: { sha256: await sha256(join(dir, 'hello')) } },
    byproducts: { 'return-value': 0, stderr: '', stdout: '' },
    environment: {},
  };
  const name = linkFileName('build', builder.keyid);
  await writeMetadataFile(join(dir, name), signMetablock(link, [builder]));
  return name;
}

test('layout create: compiles, signs with each owner key, writes atomically', async (t) => {
  const dir = await tempDir(t);
  const { owner } = await pipeline(dir, 'ed25519', 'pem');
  const second = generatePrivateKey('ecdsa');
  await saveKeyPair(second, join(dir, 'second'));
  const r = await runCli(['layout', 'create', 'root.yaml', '-k', 'owner', 'second', '-o', 'root.layout', '--json'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).keyids, [owner.keyid, second.keyid]);
  const loaded = await loadMetadataFile(join(dir, 'root.layout'));
  assert.ok(loaded.format === 'metablock' && loaded.metablock.signed._type === 'layout');
  const r2 = await runCli(['sign', '--verify', '-k', 'owner.pub', 'second.pub', 'root.layout'], { cwd: dir });
  assert.equal(r2.code, 0, r2.stderr);
  const r3 = await runCli(['layout', 'create', 'root.yaml'], { cwd: dir });
  assert.equal(r3.code, 2);
  assert.match(r3.stderr, /give at least one owner key/);
});

test('layout create: each mistake on its own line with the YAML line; nothing is written', async (t) => {
  const dir = await tempDir(t);
  await pipeline(dir, 'ed25519', 'pem');
  await writeFile(
    join(dir, 'root.yaml'),
    SPEC.replace('[ALLOW src/hello.c, DISALLOW *]', '[MATCH foo WITH BAR, DISALLOW *]').replace('expires: 30d', 'expires: 30 days'),
  );
  const r = await runCli(['layout', 'create', 'root.yaml', '-k', 'owner'], { cwd: dir });
  assert.equal(r.code, 2);
  assert.deepEqual(r.stderr.trimEnd().split('\n'), [
    'evident: root.yaml:1: expires: "30 days" is neither a duration (90d, 12h) nor an RFC 3339 date (2027-01-31, 2027-01-31T12:00:00Z)',
    "evident: root.yaml:9: steps[0].materials[0]: MATCH needs WITH MATERIALS|PRODUCTS (found 'BAR'): MATCH <pattern> [IN <prefix>] WITH MATERIALS|PRODUCTS [IN <prefix>] FROM <step>; rule: MATCH foo WITH BAR",
  ]);
  await assert.rejects(readFile(join(dir, 'root.layout')), { code: 'ENOENT' });
});

for (const type of ['ed25519', 'ecdsa', 'rsa'] as const) {
  test(`interop (${type}): a layout compiled and signed by evident and a link signed by evident pass the reference in-toto-verify`, async (t) => {
    if (skipUnlessReference(t)) return;
    const dir = await tempDir(t);
    // the reference reads ed25519/ecdsa public keys only from securesystemslib JSON, rsa from PEM
    const { builder } = await pipeline(dir, type, type === 'rsa' ? 'pem' : 'securesystemslib');
    const created = await runCli(['layout', 'create', 'root.yaml', '-k', 'owner', '-o', 'root.layout'], { cwd: dir });
    assert.equal(created.code, 0, created.stderr);
    const linkName = await writeLink(dir, builder);
    const verify = await runReferenceCli('in-toto-verify', ['--layout', 'root.layout', '--layout-keys', 'owner.pub', '--key-types', type], {
      cwd: dir,
    });
    assert.equal(verify.code, 0, `in-toto-verify refused:\n${verify.stdout}\n${verify.stderr}`);
    const signVerify = await runReferenceCli(
      'in-toto-sign',
      ['-f', linkName, '-k', 'keys/builder.pub', ...(type === 'rsa' ? [] : ['-t', type]), '--verify'],
      { cwd: dir },
    );
    // in-toto-sign reads ed25519/ecdsa public keys from JSON only: check the PEM-capable rsa case
    if (type === 'rsa') assert.equal(signVerify.code, 0, signVerify.stderr);
    // a product changed after the fact must fail the reference's verification
    await writeFile(join(dir, 'hello'), 'tampered\n');
    const tampered = await runReferenceCli(
      'in-toto-verify',
      ['--layout', 'root.layout', '--layout-keys', 'owner.pub', '--key-types', type],
      { cwd: dir },
    );
    assert.notEqual(tampered.code, 0, 'a tampered product must not verify');
  });
}

test('layout create with an encrypted owner key needs its --password', async (t) => {
  const dir = await tempDir(t);
  const { owner } = await pipeline(dir, 'ecdsa', 'pem');
  await saveKeyPair(owner, join(dir, 'locked'), { password: 'hunter2' });
  let r = await runCli(['layout', 'create', 'root.yaml', '-k', 'locked'], { cwd: dir });
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr,
    'evident: locked: this key is encrypted: give its password with --password-file FILE or EVIDENT_KEY_PASSWORD (on a terminal, -P asks for it)\n',
  );
  r = await runCli(['layout', 'create', 'root.yaml', '-k', 'locked', '--password', 'hunter2'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^root\.layout: layout with 1 step and 1 inspection, expires \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, signed by [0-9a-f]{8}\n$/,
  );
});

test('interop: with run --provenance and verify --vsa files beside the links, a layout without attestation rules still passes the reference in-toto-verify', async (t) => {
  if (skipUnlessReference(t)) return;
  const dir = await tempDir(t);
  await pipeline(dir, 'ed25519', 'securesystemslib');
  assert.equal((await runCli(['layout', 'create', 'root.yaml', '-k', 'owner', '-o', 'root.layout'], { cwd: dir })).code, 0);
  const run = await runCli(
    [
      'run',
      '-n',
      'build',
      '-k',
      'keys/builder',
      '--provenance',
      '-q',
      '-m',
      'src/hello.c',
      '-p',
      'hello',
      '--',
      'cp',
      'src/hello.c',
      'hello',
    ],
    { cwd: dir },
  );
  assert.equal(run.code, 0, run.stderr);
  const ours = await runCli(
    ['verify', '-l', 'root.layout', '-k', 'owner.pub', '--product', 'hello', '--vsa', 'hello.vsa.json', '--vsa-key', 'keys/builder'],
    { cwd: dir },
  );
  assert.equal(ours.code, 0, ours.stdout + ours.stderr);
  const files = await (await import('node:fs/promises')).readdir(dir);
  assert.ok(files.some((f) => f.endsWith('.provenance.json')) && files.includes('hello.vsa.json'), files.join(', '));
  const layout = JSON.parse(await readFile(join(dir, 'root.layout'), 'utf8')) as { signed: { steps: object[] } };
  for (const s of layout.signed.steps) assert.ok(!('expected_predicates' in s) && !('expected_vsa' in s));
  const theirs = await runReferenceCli(
    'in-toto-verify',
    ['--layout', 'root.layout', '--layout-keys', 'owner.pub', '--key-types', 'ed25519'],
    {
      cwd: dir,
    },
  );
  assert.equal(theirs.code, 0, `in-toto-verify refused:\n${theirs.stdout}\n${theirs.stderr}`);
});
