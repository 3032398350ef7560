/**
 * in-toto-golang's certificate flow through the CLI, with fixtures of the shapes its test/data and Makefile
 * make (made here: openssl and the test PKI, never its files): `-k` given a certificate, `-i` intermediates,
 * CA entries with `"public": ""`, and the layout as a DSSE envelope.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from '../helpers/child-process.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signEnvelope } from '../../src/crypto/dsse.js';
import { loadPrivateKey } from '../../src/crypto/key-files.js';
import { serializeEnvelope, serializeMetablock, signMetablock } from '../../src/intoto/models/metablock.js';
import type { Layout, Link } from '../../src/intoto/models/types.js';
import { caEntry, certSigner, makeCert, makeIntermediate, makeRoot, T0, uriConstraint } from '../helpers/pki.js';
import { runCli } from '../helpers/cli.js';

const WRITER = 'spiffe://example.com/write-code';

test('verify -k CERT -i INTERMEDIATE: an in-toto-golang style layout with certificate signers, as metablock and DSSE', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'evident-golang-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // the layout owner's key and its certificate, as in-toto-golang's Makefile verifies with the signer's certificate
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=owner'].concat([
      '-keyout',
      join(dir, 'owner.key'),
      '-out',
      join(dir, 'owner.cert.pem'),
    ]),
    { stdio: 'ignore' },
  );
  const owner = await loadPrivateKey(join(dir, 'owner.key'));
  const root = await makeRoot('example');
  const inter = await makeIntermediate(root, 'example.com');
  const leaf = await makeCert({ subject: 'O=example', issuer: inter, uris: [WRITER] });
  await writeFile(join(dir, 'intermediate.cert.pem'), inter.pem);
  // in-toto-golang's CA entries: "public": "" beside the certificate
  const entry = caEntry(root);
  const layout: Layout = {
    _type: 'layout',
    expires: '2030-01-01T00:00:00Z',
    readme: '',
    keys: {},
    rootcas: {
      [entry.keyid]: {
        ...(entry.dict as unknown as NonNullable<Layout['rootcas']>[string]),
        keyval: { public: '', certificate: root.pem },
      },
    },
    steps: [
      {
        _type: 'step',
        name: 'write-code',
        threshold: 1,
        pubkeys: [],
        cert_constraints: [uriConstraint(WRITER, [entry.keyid])],
        expected_command: [],
        expected_materials: [],
        expected_products: [['ALLOW', '*']],
      },
    ],
    inspect: [],
  };
  const link: Link = {
    _type: 'link',
    name: 'write-code',
    command: [],
    materials: {},
    products: {},
    byproducts: {},
    environment: {},
  };
  const signer = certSigner(leaf);
  await writeFile(join(dir, `write-code.${signer.keyid.slice(0, 8)}.link`), serializeMetablock(signMetablock(link, [signer])));
  await writeFile(join(dir, 'root.layout'), serializeMetablock(signMetablock(layout, [owner])));
  await writeFile(
    join(dir, 'dsse.layout'),
    // in-toto-golang's payload is json.Marshal of the layout (canonical JSON would leave the PEM's newlines raw)
    serializeEnvelope(signEnvelope('application/vnd.in-toto+json', Buffer.from(JSON.stringify(layout)), [owner])),
  );
  const verifyWith = (layoutFile: string, extra: string[]) =>
    runCli(['verify', '-l', layoutFile, '-k', 'owner.cert.pem', '--verify-time', T0.toISOString(), ...extra], { cwd: dir });

  const without = await verifyWith('root.layout', []);
  assert.equal(without.code, 1, without.stdout + without.stderr);
  assert.match(without.stdout, /does not chain to a trusted root/);
  for (const file of ['root.layout', 'dsse.layout']) {
    const r = await verifyWith(file, ['-i', 'intermediate.cert.pem']);
    assert.equal(r.code, 0, `${file}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /✓ write-code: 1 of 1 link signed by spiffe:\/\/example\.com\/write-code/);
  }
  const long = await verifyWith('root.layout', ['--intermediate-certs', 'intermediate.cert.pem']);
  assert.equal(long.code, 0, long.stdout + long.stderr);

  await writeFile(join(dir, 'not-a-cert.pem'), 'hello\n');
  for (const [file, reason] of [
    ['missing.pem', 'no such file'],
    ['not-a-cert.pem', 'holds no PEM certificate'],
  ]) {
    const bad = await verifyWith('root.layout', ['-i', file!]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.trim(), `evident: ${file}: intermediate certificates: ${reason}`);
  }
});

test('run -k KEY -c CERT: a certificate-signed link, as in-toto-golang writes it, that verify accepts by its certificate', async (t) => {
  const { openSslCa } = await import('../helpers/pki.js');
  const { loadPublicKey } = await import('../../src/crypto/key-files.js');
  const { readdir, readFile } = await import('node:fs/promises');
  const dir = await mkdtemp(join(tmpdir(), 'evident-golang-run-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const work = join(dir, 'work');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(work);
  const ca = openSslCa(dir, { name: 'example' });
  await writeFile(join(dir, 'ca.pem'), ca.pem);
  const leafKey = join(dir, 'leaf.key');
  execFileSync(
    'openssl',
    ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/O=example'].concat([
      '-addext',
      `subjectAltName=URI:${WRITER}`,
      '-keyout',
      leafKey,
      '-out',
      join(dir, 'leaf.csr'),
    ]),
    { stdio: 'ignore' },
  );
  execFileSync(
    'openssl',
    [
      'x509',
      '-req',
      '-in',
      join(dir, 'leaf.csr'),
      '-CA',
      join(dir, 'ca.pem'),
      '-CAkey',
      ca.keyPath,
      '-days',
      '1',
      '-copy_extensions',
      'copy',
    ].concat(['-out', join(dir, 'leaf.cert.pem')]),
    { stdio: 'ignore' },
  );
  await writeFile(join(work, 'hello.txt'), 'hello\n');

  const ran = await runCli(
    ['run', '-n', 'write-code', '-k', leafKey, '-c', join(dir, 'leaf.cert.pem'), '--products', 'hello.txt', '--', 'true'],
    {
      cwd: work,
    },
  );
  assert.equal(ran.code, 0, ran.stderr);
  const [linkFile] = (await readdir(work)).filter((f) => f.endsWith('.link'));
  const written = JSON.parse(await readFile(join(work, linkFile!), 'utf8')) as { signatures: { cert?: string }[] };
  assert.equal(written.signatures[0]!.cert, await readFile(join(dir, 'leaf.cert.pem'), 'utf8'));

  const root = await loadPublicKey(join(dir, 'ca.pem'));
  const owner = await loadPrivateKey(ca.keyPath);
  const layout: Layout = {
    _type: 'layout',
    expires: '2030-01-01T00:00:00Z',
    readme: '',
    keys: {},
    rootcas: { [root.keyid]: { ...root.toDict(), keyval: { public: '', certificate: ca.pem } } },
    steps: [
      {
        _type: 'step',
        name: 'write-code',
        threshold: 1,
        pubkeys: [],
        cert_constraints: [uriConstraint(WRITER, [root.keyid])],
        expected_command: [],
        expected_materials: [],
        expected_products: [
          ['ALLOW', 'hello.txt'],
          ['DISALLOW', '*'],
        ],
      },
    ],
    inspect: [],
  };
  await writeFile(join(work, 'root.layout'), serializeMetablock(signMetablock(layout, [owner])));
  const verified = await runCli(['verify', '-l', 'root.layout', '-k', join(dir, 'ca.pem')], { cwd: work });
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  assert.match(verified.stdout, /✓ write-code: 1 of 1 link signed by spiffe:\/\/example\.com\/write-code/);

  const wrong = await runCli(['run', '-n', 'x', '-k', leafKey, '-c', join(dir, 'ca.pem'), '--', 'true'], { cwd: work });
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /ca\.pem: --cert: this is not the certificate of the signing key \(-k\)$/m);
  const noKey = await runCli(['run', '-n', 'x', '-c', join(dir, 'ca.pem'), '--', 'true'], { cwd: work });
  assert.equal(noKey.code, 2);
  assert.match(noKey.stderr, /--cert is the certificate of a key: it needs -k KEY/);
});

test("run --format dsse-link: the link itself as the DSSE payload (the references' form), read back as the same link", async (t) => {
  const { generatePrivateKey, saveKeyPair } = await import('../../src/crypto/key-files.js');
  const { readdir, readFile } = await import('node:fs/promises');
  const { parseMetadata } = await import('../../src/intoto/models/metablock.js');
  const dir = await mkdtemp(join(tmpdir(), 'evident-dsse-link-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const key = generatePrivateKey('ecdsa');
  await saveKeyPair(key, join(dir, 'alice'));
  const ran = await runCli(['run', '-n', 'say', '-k', 'alice', '-s', '--format', 'dsse-link', '--', 'echo', 'hi'], { cwd: dir });
  assert.equal(ran.code, 0, ran.stderr);
  const [file] = (await readdir(dir)).filter((f) => f.endsWith('.link'));
  const envelope = JSON.parse(await readFile(join(dir, file!), 'utf8')) as { payloadType: string; payload: string };
  assert.equal(envelope.payloadType, 'application/vnd.in-toto+json');
  // plain JSON: the command's stdout keeps its newline escaped
  const payload = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as Link;
  assert.equal(payload._type, 'link');
  assert.equal(payload.byproducts.stdout, 'hi\n');
  const loaded = parseMetadata(envelope, file);
  assert.equal(loaded.format === 'dsse' ? loaded.link.name : undefined, 'say');
  const bad = await runCli(['run', '-n', 'say', '-k', 'alice', '--format', 'dsse-statement', '--', 'true'], { cwd: dir });
  assert.equal(bad.code, 2);
});

test('sign -k KEY -c CERT: a link or layout signed with a certificate, for links as run -c writes them; misuse refused', async (t) => {
  const { readFile } = await import('node:fs/promises');
  const dir = await mkdtemp(join(tmpdir(), 'evident-sign-cert-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const now = new Date();
  const root = await makeRoot('example', { now });
  const leaf = await makeCert({ subject: 'O=example', issuer: root, uris: [WRITER], now });
  await writeFile(join(dir, 'leaf.key'), leaf.key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  await writeFile(join(dir, 'leaf.cert.pem'), leaf.pem);
  await writeFile(join(dir, 'root.cert.pem'), root.pem);
  const owner = (await import('../../src/crypto/key-files.js')).generatePrivateKey('ecdsa');
  await (await import('../../src/crypto/key-files.js')).saveKeyPair(owner, join(dir, 'owner'));
  const entry = caEntry(root);
  const layout: Layout = {
    _type: 'layout',
    expires: '2030-01-01T00:00:00Z',
    readme: '',
    keys: {},
    rootcas: { [entry.keyid]: entry.dict as unknown as NonNullable<Layout['rootcas']>[string] },
    steps: [
      {
        _type: 'step',
        name: 'write-code',
        threshold: 1,
        pubkeys: [],
        cert_constraints: [uriConstraint(WRITER, [entry.keyid])],
        expected_command: [],
        expected_materials: [],
        expected_products: [['ALLOW', '*']],
      },
    ],
    inspect: [],
  };
  const link: Link = { _type: 'link', name: 'write-code', command: [], materials: {}, products: {}, byproducts: {}, environment: {} };
  await writeFile(join(dir, 'unsigned.link'), JSON.stringify({ signed: link, signatures: [] }));
  await writeFile(join(dir, 'root.layout'), serializeMetablock(signMetablock(layout, [owner])));

  const signed = await runCli(['sign', 'unsigned.link', '-k', 'leaf.key', '-c', 'leaf.cert.pem', '--json'], { cwd: dir });
  assert.equal(signed.code, 0, signed.stderr);
  const out = (JSON.parse(signed.stdout) as { file: string }).file;
  const written = JSON.parse(await readFile(join(dir, out), 'utf8')) as { signatures: { keyid: string; cert?: string }[] };
  assert.equal(written.signatures[0]!.cert, leaf.pem);
  const verified = await runCli(['verify', '-l', 'root.layout', '-k', 'owner.pub'], { cwd: dir });
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  assert.match(verified.stdout, /✓ write-code: 1 of 1 link signed by spiffe:\/\/example\.com\/write-code/);
  // signed without the certificate, the same key is no functionary of the step
  await rm(join(dir, out));
  const bare = await runCli(['sign', 'unsigned.link', '-k', 'leaf.key'], { cwd: dir });
  assert.equal(bare.code, 0, bare.stderr);
  const refused = await runCli(['verify', '-l', 'root.layout', '-k', 'owner.pub'], { cwd: dir });
  assert.equal(refused.code, 1, refused.stdout);
  assert.match(refused.stdout, /without a certificate; write-code requires a signer identity/);

  // a layout signed with --cert verifies by the key as before; the certificate rides along
  const layoutSigned = await runCli(['sign', 'root.layout', '-k', 'leaf.key', '-c', 'leaf.cert.pem', '-o', 'by-leaf.layout'], { cwd: dir });
  assert.equal(layoutSigned.code, 0, layoutSigned.stderr);
  const check = await runCli(['sign', 'by-leaf.layout', '-k', 'root.cert.pem', 'leaf.cert.pem', '--verify'], { cwd: dir });
  assert.equal(check.code, 1, check.stdout); // the root did not sign it; the leaf's certificate names the key that did
  assert.match(check.stdout, /signature by [0-9a-f]{64} \(leaf\.cert\.pem\): valid/);

  for (const [args, message] of [
    [
      ['sign', 'unsigned.link', '-k', 'leaf.key', '-c', 'root.cert.pem'],
      /root\.cert\.pem: --cert: this is not the certificate of the signing key \(-k\)$/m,
    ],
    [['sign', 'unsigned.link', '-k', 'leaf.key', '-c', 'missing.pem'], /missing\.pem: --cert: no such file$/m],
    [['sign', 'root.layout', '-k', 'leaf.key', 'owner', '-c', 'leaf.cert.pem'], /--cert is the certificate of the one signing key/],
    [['sign', 'root.layout', '-k', 'owner.pub', '-c', 'leaf.cert.pem', '--verify'], /--cert is the certificate of the one signing key/],
  ] as const) {
    const r = await runCli([...args], { cwd: dir });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, message);
  }
});
