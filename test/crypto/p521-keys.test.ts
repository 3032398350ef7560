/**
 * ECDSA P-521 keys, as securesystemslib names them (keytype `ecdsa` or `ecdsa-sha2-nistp521`, scheme
 * `ecdsa-sha2-nistp521`, SHA-512) and as in-toto-golang writes them (every ECDSA key labelled
 * `ecdsa-sha2-nistp256`, hashed by the curve). The installed Python reference (securesystemslib 0.26)
 * predates P-521, so the signatures are checked by OpenSSL and the keyids by the reference's own
 * canonical JSON encoder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from '../helpers/child-process.js';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrivateKey, PublicKey } from '../../src/crypto/keys.js';
import { generatePrivateKey, loadPrivateKey, loadPublicKey, saveKeyPair } from '../../src/crypto/key-files.js';
import { runCli } from '../helpers/cli.js';
import { runReferencePython, skipUnlessReference } from '../helpers/reference.js';

const data = Buffer.from('the canonical bytes of some signed metadata');

const pemOf = (key: ReturnType<typeof generateKeyPairSync>['publicKey']) => (key.export({ type: 'spki', format: 'pem' }) as string).trim();

test('P-521 keys use ecdsa-sha2-nistp521 and sign with SHA-512 (checked by openssl dgst -sha512)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'evident-p521-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const key = generatePrivateKey('ecdsa', { curve: 'P-521' });
  assert.equal(key.scheme, 'ecdsa-sha2-nistp521');
  assert.equal(key.publicKey.keytype, 'ecdsa');
  const signature = key.signRaw(data);
  assert.equal(key.publicKey.verifyRaw(data, signature), true);
  assert.equal(key.publicKey.verifyRaw(Buffer.from('other bytes'), signature), false);

  await writeFile(join(dir, 'data'), data);
  await writeFile(join(dir, 'sig'), signature);
  await writeFile(join(dir, 'pub.pem'), `${key.publicKey.publicValue}\n`);
  const check = (digest: string) => {
    try {
      execFileSync('openssl', ['dgst', digest, '-verify', join(dir, 'pub.pem'), '-signature', join(dir, 'sig'), join(dir, 'data')], {
        stdio: 'pipe',
      });
      return true;
    } catch {
      return false;
    }
  };
  assert.equal(check('-sha512'), true);
  assert.equal(check('-sha256'), false);

  // PEM and securesystemslib JSON files load back to the same key
  await saveKeyPair(key, join(dir, 'pem'));
  await saveKeyPair(key, join(dir, 'json'), { format: 'securesystemslib' });
  assert.equal((await loadPrivateKey(join(dir, 'pem'))).keyid, key.keyid);
  assert.equal((await loadPublicKey(join(dir, 'pem.pub'))).keyid, key.keyid);
  assert.equal((await loadPrivateKey(join(dir, 'json'))).keyid, key.keyid);
  const dict = JSON.parse(await readFile(join(dir, 'json.pub'), 'utf8')) as { keytype: string; scheme: string };
  assert.deepEqual([dict.keytype, dict.scheme], ['ecdsa', 'ecdsa-sha2-nistp521']);
});

test("securesystemslib's two spellings of a P-521 key dict, and keyids as the reference's canonical JSON computes them", async (t) => {
  const pem = pemOf(generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey);
  const asEcdsa = PublicKey.fromDict({ keytype: 'ecdsa', scheme: 'ecdsa-sha2-nistp521', keyval: { public: pem } });
  const asScheme = PublicKey.fromDict({ keytype: 'ecdsa-sha2-nistp521', scheme: 'ecdsa-sha2-nistp521', keyval: { public: pem } });
  assert.notEqual(asEcdsa.keyid, asScheme.keyid); // the keytype is part of what the keyid hashes
  assert.equal(asEcdsa.fingerprint, asScheme.fingerprint);
  if (skipUnlessReference(t)) return;
  const reference = await runReferencePython(
    [
      'import sys, json, hashlib',
      'from securesystemslib.formats import encode_canonical',
      'pem = sys.stdin.read()',
      'for keytype in ["ecdsa", "ecdsa-sha2-nistp521"]:',
      '  d = {"keytype": keytype, "scheme": "ecdsa-sha2-nistp521", "keyid_hash_algorithms": ["sha256", "sha512"], "keyval": {"public": pem}}',
      '  print(hashlib.sha256(encode_canonical(d).encode()).hexdigest())',
    ].join('\n'),
    { input: pem },
  );
  assert.deepEqual(reference.trim().split('\n'), [asEcdsa.keyid, asScheme.keyid]);
});

test("in-toto-golang's P-521 key labelled ecdsa-sha2-nistp256: verified with SHA-512, as go-securesystemslib signs", () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-521' });
  const key = PublicKey.fromDict({ keytype: 'ecdsa', scheme: 'ecdsa-sha2-nistp256', keyval: { public: pemOf(publicKey) } });
  assert.equal(key.verifyRaw(data, sign('sha512', data, privateKey)), true);
  assert.equal(key.verifyRaw(data, sign('sha256', data, privateKey)), false);
  // evident labels the same key by its curve and signs as go-securesystemslib verifies: SHA-512
  const own = new PrivateKey(privateKey);
  assert.equal(own.scheme, 'ecdsa-sha2-nistp521');
  assert.equal(key.verifyRaw(data, own.signRaw(data)), true);
});

test('a key of another curve cannot claim ecdsa-sha2-nistp521, nor a P-521 key nistp384', () => {
  const p256 = pemOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
  const p521 = pemOf(generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey);
  assert.throws(
    () => PublicKey.fromDict({ keytype: 'ecdsa', scheme: 'ecdsa-sha2-nistp521', keyval: { public: p256 } }),
    /a ECDSA prime256v1 key cannot use scheme 'ecdsa-sha2-nistp521'/,
  );
  assert.throws(
    () => PublicKey.fromDict({ keytype: 'ecdsa', scheme: 'ecdsa-sha2-nistp384', keyval: { public: p521 } }),
    /a ECDSA secp521r1 key cannot use scheme 'ecdsa-sha2-nistp384'/,
  );
  assert.throws(
    () => PublicKey.fromDict({ keytype: 'rsa', scheme: 'ecdsa-sha2-nistp521', keyval: { public: p521 } }),
    /keytype 'rsa' does not go with scheme 'ecdsa-sha2-nistp521'/,
  );
  const p224 = generateKeyPairSync('ec', { namedCurve: 'secp224r1' }).privateKey;
  assert.throws(() => new PrivateKey(p224), /unsupported ECDSA curve secp224r1 \(use P-256, P-384 or P-521\)/);
});

test('evident keygen --curve P-521, then run and verify with it through the CLI', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'evident-p521-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const made = await runCli(['keygen', '-t', 'ecdsa', '--curve', 'P-521', 'alice', '--json'], { cwd: dir });
  assert.equal(made.code, 0, made.stderr);
  assert.equal((JSON.parse(made.stdout) as { scheme: string }).scheme, 'ecdsa-sha2-nistp521');
  const bad = await runCli(['keygen', '-t', 'ecdsa', '--curve', 'P-224', 'bob'], { cwd: dir });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown curve 'P-224' \(use P-256, P-384 or P-521\)/);

  const alice = await loadPublicKey(join(dir, 'alice.pub'));
  const owner = generatePrivateKey('ecdsa', { curve: 'P-521' });
  await saveKeyPair(owner, join(dir, 'owner'));
  const layout = {
    _type: 'layout',
    expires: '2030-01-01T00:00:00Z',
    readme: '',
    keys: { [alice.keyid]: alice.toDict() },
    steps: [
      {
        _type: 'step',
        name: 'say',
        threshold: 1,
        pubkeys: [alice.keyid],
        expected_command: [],
        expected_materials: [],
        expected_products: [['ALLOW', 'out.txt']],
      },
    ],
    inspect: [],
  };
  await writeFile(join(dir, 'unsigned.layout'), JSON.stringify({ signed: layout, signatures: [] }));
  const signed = await runCli(['sign', 'unsigned.layout', '-k', 'owner', '-o', 'root.layout'], { cwd: dir });
  assert.equal(signed.code, 0, signed.stderr);
  await writeFile(join(dir, 'out.txt'), 'hello\n');
  const ran = await runCli(['run', '-n', 'say', '-k', 'alice', '--products', 'out.txt', '--', 'true'], { cwd: dir });
  assert.equal(ran.code, 0, ran.stderr);
  const verified = await runCli(['verify', '-l', 'root.layout', '-k', 'owner.pub'], { cwd: dir });
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  // a link altered after signing fails
  const linkFile = `say.${alice.keyid.slice(0, 8)}.link`;
  const link = JSON.parse(await readFile(join(dir, linkFile), 'utf8')) as { signed: { command: string[] } };
  link.signed.command = ['false'];
  await writeFile(join(dir, linkFile), JSON.stringify(link));
  const tampered = await runCli(['verify', '-l', 'root.layout', '-k', 'owner.pub'], { cwd: dir });
  assert.equal(tampered.code, 1, tampered.stdout + tampered.stderr);
});
