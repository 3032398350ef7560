// evident layout create with timestamp_authorities, then evident verify of a link signed by a short-lived
// certificate whose signature carries a token from a real TSA over HTTP: after the certificate has
// expired, the token is what lets the link count (docs/trusted-time.md, "Verifying at the signing time").
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePrivateKey, saveKeyPair } from '../../src/crypto/key-files.js';
import { timestampedBytes } from '../../src/crypto/signature-timestamps.js';
import { signMetablock, writeMetadataFile } from '../../src/intoto/models/metablock.js';
import type { Link, Metablock } from '../../src/intoto/models/types.js';
import { requestTimestamp } from '../../src/time/client.js';
import { startTsaServer, type TsaServer } from '../../src/time/http.js';
import { runCli } from '../helpers/cli.js';
import { certSigner, makeCert, makeRoot, type TestCert } from '../helpers/pki.js';
import { tsaPki, type TsaPki } from '../time/helpers.js';

const BUILDER = 'spiffe://corp.example/ci/builder';
const MINUTE = 60_000;

let dir = '';
let pki: TsaPki;
let leaf: TestCert;
let server: TsaServer;
const now = new Date();

const SPEC = [
  'expires: 30d',
  'roots: {corp: corp.pem}',
  'timestamp_authorities: {corp-tsa: tsa-root.pem}',
  'steps:',
  '  - name: build',
  `    functionaries: [{spiffe: "${BUILDER}", roots: [corp]}]`,
  '    require_timestamps: true',
  '    products: [CREATE hello, DISALLOW *]',
  '',
].join('\n');

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'evident-verify-ts-'));
  pki = await tsaPki(now);
  const corp = await makeRoot('corp', { now });
  // a certificate that lives three minutes, as an X509-SVID may
  leaf = await makeCert({
    issuer: corp,
    uris: [BUILDER],
    notBefore: new Date(now.getTime() - MINUTE),
    notAfter: new Date(now.getTime() + 2 * MINUTE),
  });
  server = await startTsaServer({ authority: pki.authority() });
  await writeFile(join(dir, 'corp.pem'), corp.pem);
  await writeFile(join(dir, 'tsa-root.pem'), pki.root.pem);
  await writeFile(join(dir, 'tsa.pem'), pki.tsa.pem);
  await writeFile(join(dir, 'hello'), 'binary\n');
  await saveKeyPair(generatePrivateKey('ed25519'), join(dir, 'owner'));
  await writeFile(join(dir, 'root.yaml'), SPEC);
});

after(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

/** The build link signed by the short-lived certificate, with a token from the TSA when asked. */
async function writeBuildLink(folder: string, withToken: boolean): Promise<void> {
  const link: Link = {
    _type: 'link',
    name: 'build',
    command: [],
    materials: {},
    products: { hello: { sha256: createHash('sha256').update('binary\n').digest('hex') } },
    byproducts: {},
    environment: {},
  };
  const signer = certSigner(leaf);
  const doc: Metablock = signMetablock(link, [signer]);
  const s = doc.signatures[0]!;
  if (withToken)
    s.timestamps = [{ type: 'tsp', data: (await requestTimestamp(server.url, timestampedBytes(s.sig!, 'hex'))).toString('base64') }];
  await writeMetadataFile(join(dir, folder, `build.${signer.keyid.slice(0, 8)}.link`), doc);
}

test('layout create compiles timestamp_authorities; verify an hour later passes on the token, and says so', async () => {
  const created = await runCli(['layout', 'create', 'root.yaml', '-k', 'owner', '-o', 'root.layout'], { cwd: dir });
  assert.equal(created.code, 0, created.stderr);
  for (const [folder, withToken] of [
    ['stamped', true],
    ['bare', false],
  ] as const) {
    await mkdir(join(dir, folder));
    await writeBuildLink(folder, withToken);
  }
  const later = new Date(now.getTime() + 60 * MINUTE).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const verify = (folder: string) =>
    runCli(['verify', '-l', 'root.layout', '-k', 'owner.pub', '--link-dir', folder, '--verify-time', later], { cwd: dir });

  const passed = await verify('stamped');
  assert.equal(passed.code, 0, passed.stdout + passed.stderr);
  assert.match(
    passed.stdout,
    /^✓ certificates checked at the genTime of a valid timestamp on their signature, else at \S+ \(--verify-time\)$/m,
  );
  assert.match(
    passed.stdout,
    /^✓ build: 1 of 1 link signed by spiffe:\/\/corp\.example\/ci\/builder \(timestamped \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ by O=evident, CN=test TSA\)$/m,
  );
  assert.match(passed.stdout, /^PASSED/m);

  const failed = await verify('bare');
  assert.equal(failed.code, 1, failed.stdout + failed.stderr);
  assert.match(
    failed.stdout,
    /^✗ build: 0 of 1 link signed by an authorized functionary; \S*\/bare\/build\.[0-9a-f]{8}\.link: build requires timestamps and the signature by spiffe:\/\/corp\.example\/ci\/builder has none$/m,
  );
});

test('layout create refuses a TSA certificate given as the authority, with the YAML line, and writes nothing', async () => {
  await writeFile(join(dir, 'bad.yaml'), SPEC.replace('tsa-root.pem', 'tsa.pem'));
  const r = await runCli(['layout', 'create', 'bad.yaml', '-k', 'owner', '-o', 'bad.layout'], { cwd: dir });
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr.trimEnd(),
    "evident: bad.yaml:3: timestamp_authorities.corp-tsa: tsa.pem certificate 1 (O=evident, CN=test TSA) is a TSA's own certificate, not a CA certificate: give the CA that issues it (the root of the TSA's chain)",
  );
});
