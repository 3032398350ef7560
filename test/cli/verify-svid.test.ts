// evident verify with links signed by SVIDs: `evident run --spiffe-socket` against the test double of the
// Workload API (real gRPC on a Unix socket, real certificates), a layout mixing a developer's static key
// and a SPIFFE-constrained CI step, compiled by `evident layout create`, then verified in-process.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { saveKeyPair } from '../../src/crypto/key-files.js';
import { certificatesToPem } from '../../src/crypto/x509/pem.js';
import { FakeWorkloadApi, x509Response } from '../spiffe/fake-workload-api-server.js';
import { makeCa, makeSvid, type TestCa } from '../helpers/pki.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { alice, owner } from '../intoto/verify/chain.js';
import { tempDir, type TempDir } from '../intoto/verify/fixtures.js';

let tmp: TempDir;
let dir = '';
let api: FakeWorkloadApi;
let corp: TestCa;
const startDir = process.cwd();

const BUILDER = 'spiffe://corp.example/ci/builder';

/** The layout spec: alice signs off the code, the CI builder (by SPIFFE ID, under the corp root) builds it. */
function spec(builder = BUILDER): string {
  return [
    'expires: 30d',
    'keys: {alice: alice.pub}',
    'roots: {corp: corp-bundle.pem}',
    'steps:',
    '  - name: code',
    '    functionaries: [alice]',
    '    products: [CREATE hello.c, DISALLOW *]',
    '  - name: build',
    `    functionaries: [{spiffe: "${builder}", roots: [corp]}]`,
    '    materials: [MATCH hello.c WITH PRODUCTS FROM code, DISALLOW *]',
    '    products: [CREATE hello, DISALLOW *]',
    'inspections: []',
    '',
  ].join('\n');
}

async function cli(argv: string[], cwd = dir): Promise<CliResult> {
  return runCli(argv, { cwd });
}

/** A fresh folder with alice's code link and a build link by whatever the Workload API hands out. */
async function pipeline(name: string, build: 'svid' | 'static' = 'svid'): Promise<string> {
  const run = join(dir, name);
  await mkdir(run);
  process.chdir(run);
  await writeFile(join(run, 'hello.c'), 'int main(void) { return 0; }\n');
  let r = await cli(['run', '-n', 'code', '-k', join(dir, 'alice'), '-p', 'hello.c', '--', 'true'], run);
  assert.equal(r.code, 0, r.stderr);
  const signing = build === 'svid' ? ['--spiffe-socket', api.address] : ['-k', join(dir, 'alice')];
  r = await cli(['run', '-n', 'build', ...signing, '-m', 'hello.c', '-p', 'hello', '--', 'cp', 'hello.c', 'hello'], run);
  assert.equal(r.code, 0, r.stderr);
  return run;
}

async function verifyIn(run: string, layout = 'root.layout'): Promise<CliResult> {
  return cli(['verify', '-l', join(dir, layout), '-k', join(dir, 'owner.pub'), '--link-dir', run], run);
}

before(async () => {
  tmp = await tempDir('evident-cli-verify-svid-');
  dir = tmp.dir;
  api = await FakeWorkloadApi.start(join(dir, 'agent.sock'));
  corp = await makeCa('corp.example', new Date());
  await saveKeyPair(owner(), join(dir, 'owner'));
  await saveKeyPair(alice(), join(dir, 'alice'));
  await writeFile(join(dir, 'corp-bundle.pem'), certificatesToPem([corp.cert]));
  await writeFile(join(dir, 'root.yaml'), spec());
  await writeFile(join(dir, 'other.yaml'), spec('spiffe://corp.example/ci/other'));
  for (const [yaml, out] of [
    ['root.yaml', 'root.layout'],
    ['other.yaml', 'other.layout'],
  ]) {
    const r = await cli(['layout', 'create', yaml!, '-k', 'owner', '-o', out!]);
    assert.equal(r.code, 0, r.stderr);
  }
});

after(async () => {
  process.chdir(startDir);
  await api.stop();
  await tmp.cleanup();
});

test('evident verify: a static-key step and an SVID-signed step pass; the report names the SPIFFE ID', async () => {
  api.setX509(x509Response([{ svid: await makeSvid(corp, '/ci/builder', { now: new Date() }), bundle: corp.bundle }]));
  const run = await pipeline('honest');
  const r = await verifyIn(run);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^✓ build: 1 of 1 link signed by spiffe:\/\/corp\.example\/ci\/builder$/m);
  assert.match(r.stdout, /^✓ code: 1 of 1 required link by distinct authorized functionaries/m);
  assert.match(r.stdout, /^✓ certificates checked at \S+ \(verification time\)/m);
  assert.match(r.stdout, /^PASSED/m);

  // --verify-time: the certificates are checked then, and the report says so
  const at = new Date(Date.now() + 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const pinned = await cli(
    ['verify', '-l', join(dir, 'root.layout'), '-k', join(dir, 'owner.pub'), '--link-dir', run, '--verify-time', at],
    run,
  );
  assert.equal(pinned.code, 0, pinned.stdout);
  assert.match(pinned.stdout, new RegExp(`^✓ certificates checked at ${at} \\(--verify-time\\)`, 'm'));
  // after the SVID expired (an hour), the same links no longer pass
  const late = new Date(Date.now() + 2 * 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const expired = await cli(
    ['verify', '-l', join(dir, 'root.layout'), '-k', join(dir, 'owner.pub'), '--link-dir', run, '--verify-time', late],
    run,
  );
  assert.equal(expired.code, 1);
  assert.match(expired.stdout, /certificate of spiffe:\/\/corp\.example\/ci\/builder is not valid: leaf certificate expired at/);
});

test('evident verify: exit 1 when the layout expects another SPIFFE ID', async () => {
  api.setX509(x509Response([{ svid: await makeSvid(corp, '/ci/builder', { now: new Date() }), bundle: corp.bundle }]));
  const run = await pipeline('other-id');
  const r = await verifyIn(run, 'other.layout');
  assert.equal(r.code, 1, r.stdout);
  assert.match(
    r.stdout,
    /^✗ build: 0 of 1 link signed by an authorized functionary; .*link by spiffe:\/\/corp\.example\/ci\/builder does not satisfy build's constraints \(uris must be \[spiffe:\/\/corp\.example\/ci\/other\]\)/m,
  );
  assert.match(r.stdout, /^FAILED/m);
});

test("evident verify: exit 1 when the certificate comes from another trust domain's CA", async () => {
  const other = await makeCa('other.example', new Date());
  api.setX509(x509Response([{ svid: await makeSvid(other, '/ci/builder', { now: new Date() }), bundle: other.bundle }]));
  const run = await pipeline('other-ca');
  const r = await verifyIn(run);
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stdout, /certificate of spiffe:\/\/other\.example\/ci\/builder does not chain to a trusted root/);
});

test('evident verify: exit 1 when the SVID-signed link was altered', async () => {
  api.setX509(x509Response([{ svid: await makeSvid(corp, '/ci/builder', { now: new Date() }), bundle: corp.bundle }]));
  const run = await pipeline('altered');
  const file = (await readdir(run)).find((f) => f.startsWith('build.') && f.endsWith('.link'))!;
  const text = await readFile(join(run, file), 'utf8');
  const doc = JSON.parse(text) as { signed: { products: Record<string, { sha256: string }> } };
  doc.signed.products.hello!.sha256 = '0'.repeat(64);
  await writeFile(join(run, file), JSON.stringify(doc, null, 1));
  const r = await verifyIn(run);
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stdout, /signature does not verify with the key of its certificate \(spiffe:\/\/corp\.example\/ci\/builder\)/);
});

test('evident verify: exit 1 when a static key signs the step that requires an identity', async () => {
  const run = await pipeline('static', 'static');
  const r = await verifyIn(run);
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stdout, /without a certificate; build requires a signer identity \(spiffe:\/\/corp\.example\/ci\/builder\)/);
  await rm(run, { recursive: true });
});
