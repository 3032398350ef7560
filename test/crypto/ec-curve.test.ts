/**
 * EC keys whose curve node:crypto cannot report. Node 20 aborts the whole process on
 * `keyObject.asymmetricKeyDetails` for a PKCS #8 P-256 key whose private scalar is longer than 32 bytes
 * (`GetEcKeyDetail: Assertion failed: (ec) != nullptr`; found by `npm run fuzz -- x509-der`), which
 * OpenSSL 3 reads without complaint. Every place evident asks a key's curve reads it from the key's DER
 * instead (crypto/ec-curve.ts). The crashing key is tried in a child process, so that a regression fails
 * this test rather than killing the test runner.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeCurve, namedCurveOf } from '../../src/crypto/ec-curve.js';
import { PublicKey } from '../../src/crypto/keys.js';
import { EvidentError } from '../../src/errors.js';
import { execFileSync, spawnSync } from '../helpers/child-process.js';
import { createPublicKey } from 'node:crypto';

test('the curve of named-curve keys, public and private; none for other kinds of key', () => {
  for (const [node, expected] of [
    ['P-256', 'prime256v1'],
    ['P-384', 'secp384r1'],
    ['P-521', 'secp521r1'],
  ] as const) {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: node });
    assert.equal(namedCurveOf(publicKey), expected);
    assert.equal(namedCurveOf(privateKey), expected);
    // the same answer node:crypto gives for a well-formed key
    assert.equal(namedCurveOf(publicKey), publicKey.asymmetricKeyDetails?.namedCurve);
  }
  assert.equal(namedCurveOf(generateKeyPairSync('ed25519').publicKey), undefined);
  const p224 = generateKeyPairSync('ec', { namedCurve: 'secp224r1' }).publicKey;
  assert.equal(namedCurveOf(p224), undefined);
  assert.equal(describeCurve(p224), 'secp224r1');
});

test('a key with explicit curve parameters (as openssl -param_enc explicit writes it) is refused with a typed error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'evident-ec-curve-'));
  try {
    const key = join(dir, 'explicit.pem');
    execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-param_enc', 'explicit', '-genkey', '-noout', '-out', key]);
    const pub = execFileSync('openssl', ['pkey', '-in', key, '-pubout'], { encoding: 'utf8' });
    const keyObject = createPublicKey(pub);
    assert.equal(namedCurveOf(keyObject), undefined);
    assert.equal(describeCurve(keyObject), 'with explicit or malformed parameters');
    // Go's x509 refuses such keys too; RFC 5480 allows only named curves in certificates
    assert.throws(
      () => PublicKey.fromKeyObject(keyObject),
      (e: unknown) =>
        e instanceof EvidentError &&
        e.code === 'BAD_KEY' &&
        /unsupported ECDSA curve with explicit or malformed parameters/.test(e.message),
    );
    assert.ok((await readFile(key, 'utf8')).includes('BEGIN EC PRIVATE KEY'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** In a child: each way evident asks a key's curve, on the crashing key; prints one line per way. */
const CHILD = `
const { createPrivateKey, createPublicKey } = await import('node:crypto');
const der = await import(${JSON.stringify(new URL('../../src/crypto/der.ts', import.meta.url).href)});
const { PrivateKey } = await import(${JSON.stringify(new URL('../../src/crypto/keys.ts', import.meta.url).href)});
const { parsePrivateKey } = await import(${JSON.stringify(new URL('../../src/crypto/key-files.ts', import.meta.url).href)});
const { toPem } = await import(${JSON.stringify(new URL('../../src/crypto/x509/pem.ts', import.meta.url).href)});
const { keyTypeOf } = await import(${JSON.stringify(new URL('../../src/identity/server/ca/keys.ts', import.meta.url).href)});
const { signatureScheme } = await import(${JSON.stringify(new URL('../../src/time/algorithms.ts', import.meta.url).href)});
const { defaultAlgorithm } = await import(${JSON.stringify(new URL('../../src/spiffe/jwtsvid/algorithms.ts', import.meta.url).href)});
// PKCS #8, P-256, a private scalar of 33 bytes
const algorithm = Buffer.from('301306072a8648ce3d020106082a8648ce3d030107', 'hex');
const pkcs8 = der.sequence(der.smallInteger(0), algorithm, der.octetString(der.sequence(der.smallInteger(1), der.octetString(Buffer.alloc(33, 0x66)))));
const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
const ways = {
  parsePrivateKey: () => parsePrivateKey(toPem('PRIVATE KEY', pkcs8)),
  PrivateKey: () => new PrivateKey(key),
  'CA keyTypeOf': () => keyTypeOf(key),
  'TSA signatureScheme': () => signatureScheme(key),
  'JWT defaultAlgorithm': () => defaultAlgorithm(key),
};
for (const [name, way] of Object.entries(ways)) {
  try { way(); console.log(name + ': accepted'); } catch (e) { console.log(name + ': ' + (e.code ?? e.name)); }
}
`;

test('a P-256 private key with a 33-byte scalar: a key file is refused with a typed error, and no way of asking its curve aborts the process', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], { encoding: 'utf8' });
  assert.equal(r.signal, null, `the process died (${r.signal}): ${r.stderr.split('\n').find((l) => /Assertion/.test(l)) ?? r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 5, r.stdout);
  // a key file is checked to sign consistently; the other ways take a key object evident made or loaded, and
  // only ask its curve: what matters there is an answer, not an abort
  assert.equal(lines[0], 'parsePrivateKey: BAD_KEY');
  for (const line of lines.slice(1)) assert.match(line, /: (accepted|BAD_KEY|BAD_INPUT)$/, line);
});
