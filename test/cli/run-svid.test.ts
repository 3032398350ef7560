import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { X509Certificate } from 'node:crypto';
import { canonicalJson } from '../../src/crypto/canonical-json.js';
import { PublicKey } from '../../src/crypto/keys.js';
import { CertificateSigner } from '../../src/crypto/signer.js';
import { generatePrivateKey } from '../../src/crypto/key-files.js';
import type { Link, Metablock } from '../../src/intoto/models/types.js';
import { FakeWorkloadApi, x509Response } from '../spiffe/fake-workload-api-server.js';
import { makeCa, makeSvid } from '../helpers/pki.js';
import { runCli } from '../helpers/cli.js';

let dir: string;
let api: FakeWorkloadApi;
const startDir = process.cwd();

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'evident-run-svid-'));
  api = await FakeWorkloadApi.start(join(dir, 'agent.sock'));
  process.chdir(dir);
  await writeFile(join(dir, 'hello.c'), 'int main(void) { return 0; }\n');
});
after(async () => {
  process.chdir(startDir);
  await api.stop();
  await rm(dir, { recursive: true, force: true });
});

async function linksIn(folder: string): Promise<string[]> {
  return (await readdir(folder)).filter((f) => f.endsWith('.link'));
}

test('run --spiffe-socket signs with the SVID: keyid of the leaf key, the chain in "cert"', async (t) => {
  const now = new Date();
  const ca = await makeCa('corp.example', now);
  const builder = await makeSvid(ca, '/ci/builder', { now });
  const other = await makeSvid(ca, '/ci/scanner', { now });
  api.setX509(
    x509Response([
      { svid: other, bundle: ca.bundle },
      { svid: builder, bundle: ca.bundle },
    ]),
  );
  const out = await mkdtemp(join(dir, 'out-'));
  t.after(() => rm(out, { recursive: true }));
  const r = await runCli([
    'run',
    '-n',
    'build',
    '--spiffe-socket',
    api.address,
    '--spiffe-id',
    'spiffe://corp.example/ci/builder',
    '-m',
    'hello.c',
    '-d',
    out,
    '--',
    'true',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const [file] = await linksIn(out);
  const mb = JSON.parse(await readFile(join(out, file!), 'utf8')) as Metablock<Link>;
  const leaf = new X509Certificate(mb.signatures[0]!.cert!);
  assert.equal(leaf.subjectAltName, 'URI:spiffe://corp.example/ci/builder');
  const leafKey = PublicKey.fromKeyObject(leaf.publicKey);
  assert.equal(mb.signatures[0]!.keyid, leafKey.keyid);
  assert.equal(file, `build.${leafKey.keyid.slice(0, 8)}.link`);
  assert.ok(leafKey.verify(Buffer.from(canonicalJson(mb.signed)), mb.signatures[0]!.sig!));
});

test('run --spiffe-socket --format dsse puts the certificate in the DSSE signature', async (t) => {
  const now = new Date();
  const ca = await makeCa('corp.example', now);
  api.setX509(x509Response([{ svid: await makeSvid(ca, '/ci/builder', { now }), bundle: ca.bundle }]));
  const out = await mkdtemp(join(dir, 'out-'));
  t.after(() => rm(out, { recursive: true }));
  const r = await runCli(['run', '-n', 'build', '--spiffe-socket', api.address, '-x', '-p', 'hello.c', '-d', out, '--format', 'dsse']);
  assert.equal(r.code, 0, r.stderr);
  const env = JSON.parse(await readFile(join(out, (await linksIn(out))[0]!), 'utf8')) as { signatures: { cert?: string }[] };
  assert.match(env.signatures[0]!.cert ?? '', /^-----BEGIN CERTIFICATE-----/);
});

test('record start and stop with an SVID that rotated in between', async () => {
  const now = new Date();
  const ca = await makeCa('corp.example', now);
  api.setX509(x509Response([{ svid: await makeSvid(ca, '/ci/editor', { now }), bundle: ca.bundle }]));
  assert.equal((await runCli(['record', 'start', '-n', 'edit', '--spiffe-socket', api.address, '-m', 'hello.c'])).code, 0);
  api.setX509(x509Response([{ svid: await makeSvid(ca, '/ci/editor', { now }), bundle: ca.bundle }]));
  const stop = await runCli(['record', 'stop', '-n', 'edit', '--spiffe-socket', api.address, '-p', 'hello.c']);
  assert.equal(stop.code, 0, stop.stderr);
  assert.deepEqual(
    (await readdir(dir)).filter((f) => f.includes('link-unfinished')),
    [],
  );
  // a preliminary link signed under another identity is refused
  api.setX509(x509Response([{ svid: await makeSvid(ca, '/ci/editor', { now }), bundle: ca.bundle }]));
  assert.equal((await runCli(['record', 'start', '-n', 'edit2', '--spiffe-socket', api.address, '-m', 'hello.c'])).code, 0);
  api.setX509(x509Response([{ svid: await makeSvid(ca, '/ci/intruder', { now }), bundle: ca.bundle }]));
  const refused = await runCli(['record', 'stop', '-n', 'edit2', '--spiffe-socket', api.address, '-p', 'hello.c']);
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    /not signed by an SVID of spiffe:\/\/corp\.example\/ci\/intruder: its certificate names spiffe:\/\/corp\.example\/ci\/editor/,
  );
  for (const f of await readdir(dir)) if (f.endsWith('.link') || f.includes('link-unfinished')) await rm(join(dir, f));
});

test('no identity, no socket, or both -k and --spiffe-socket: clear errors', async () => {
  api.setX509({ code: status.PERMISSION_DENIED, details: 'no identity issued' });
  const denied = await runCli(['run', '-n', 'build', '--spiffe-socket', api.address, '-x', '-p', 'hello.c']);
  assert.equal(denied.code, 3, denied.stderr);
  assert.match(denied.stderr, /^evident: .*(PermissionDenied|no identity)/i);
  const missing = await runCli(['run', '-n', 'build', '--spiffe-socket', `unix://${join(dir, 'nope.sock')}`, '-x', '-p', 'hello.c']);
  assert.equal(missing.code, 3, missing.stderr);
  const both = await runCli(['run', '-n', 'build', '-k', 'x', '--spiffe-socket', api.address, '-x', '-p', 'hello.c']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /either -k KEY or --spiffe-socket/);
  const none = await runCli(['run', '-n', 'build', '-x', '-p', 'hello.c'], { env: {} });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /-k KEY, or --spiffe-socket/);
  assert.deepEqual(await linksIn(dir), []);
});

test('a certificate signer refuses to sign once its certificate has expired', () => {
  const key = generatePrivateKey('ecdsa');
  let clock = new Date('2026-01-01T00:00:00Z');
  const signer = new CertificateSigner(key, '-----BEGIN CERTIFICATE-----\n', new Date('2026-01-01T00:10:00Z'), () => clock);
  assert.ok(key.publicKey.verify(Buffer.from('x'), signer.sign(Buffer.from('x'))));
  clock = new Date('2026-01-01T00:10:00Z');
  assert.throws(
    () => signer.sign(Buffer.from('x')),
    (e: Error & { code?: string }) =>
      e.code === 'ENVIRONMENT' && /expired at 2026-01-01T00:10:00.000Z, before the step finished/.test(e.message),
  );
});

test('run --spiffe-socket signs with the SVID the agent serves when the command is done, not the one it had at the start', async (t) => {
  // the agent renews an SVID at half its life: one taken before a long step could have expired by the end
  const now = new Date();
  const ca = await makeCa('corp.example', now);
  const before = await makeSvid(ca, '/ci/builder', { now });
  const renewed = await makeSvid(ca, '/ci/builder', { now });
  api.setX509(x509Response([{ svid: before, bundle: ca.bundle }]));
  const out = await mkdtemp(join(dir, 'out-'));
  t.after(() => rm(out, { recursive: true }));
  const started = join(out, 'started');
  const running = runCli(['run', '-n', 'build', '--spiffe-socket', api.address, '-d', out, '--', 'sh', '-c', `touch ${started}; sleep 1`]);
  // the command has begun (so the first SVID was fetched): now the agent renews
  for (let i = 0; !(await readdir(out)).includes('started'); i++) {
    assert.ok(i < 200, 'the command did not start');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  api.setX509(x509Response([{ svid: renewed, bundle: ca.bundle }]));
  const r = await running;
  assert.equal(r.code, 0, r.stderr);
  const [file] = await linksIn(out);
  const mb = JSON.parse(await readFile(join(out, file!), 'utf8')) as Metablock<Link>;
  const leaf = new X509Certificate(mb.signatures[0]!.cert!);
  assert.equal(leaf.fingerprint256, new X509Certificate(Buffer.from(renewed.certificates[0]!.rawData)).fingerprint256);
  assert.notEqual(leaf.fingerprint256, new X509Certificate(Buffer.from(before.certificates[0]!.rawData)).fingerprint256);
});
