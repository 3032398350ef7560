import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { X509Certificate } from '@peculiar/x509';
import { SpiffeId } from '../../src/spiffe/spiffeid/index.js';
import {
  createCaCertificate,
  createCertificate,
  createX509Svid,
  ExtendedKeyUsage,
  KeyUsageFlags,
  verify,
  X509Svid,
  X509SvidError,
  type X509SvidErrorReason,
} from '../../src/spiffe/x509svid/index.js';
import { X509BundleSet } from '../../src/spiffe/bundle/index.js';
import { exitCodeFor } from '../../src/errors.js';
import {
  ecKey,
  HOUR,
  makeCa,
  makeCert,
  T0,
  type CertOptions,
  type Issuer,
  type KeyPair,
  type TestCa,
  type TestKey,
} from '../helpers/pki.js';

function isReason(reason: X509SvidErrorReason, code?: string) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof X509SvidError, `expected X509SvidError, got ${String(e)}`);
    assert.equal(e.reason, reason, e.message);
    assert.match(e.message, /^x509svid: /);
    if (code !== undefined) assert.equal(e.code, code);
    return true;
  };
}

/** A leaf with chosen (possibly broken) properties, signed by `ca`. */
async function leaf(ca: Issuer, over: CertOptions = {}, key: TestKey = ecKey()): Promise<X509Certificate> {
  const made = await makeCert({
    subject: 'O=SPIFFE',
    issuer: ca,
    key,
    notBefore: new Date(T0.getTime() - HOUR),
    notAfter: new Date(T0.getTime() + HOUR),
    uris: ['spiffe://example.org/workload'],
    ca: false,
    keyUsages: KeyUsageFlags.digitalSignature,
    extKeyUsages: [ExtendedKeyUsage.serverAuth, ExtendedKeyUsage.clientAuth],
    ...over,
  });
  return made.cert;
}

describe('x509svid.verify', () => {
  let ca: TestCa;
  let other: TestCa;
  let bundles: X509BundleSet;
  before(async () => {
    ca = await makeCa('example.org');
    other = await makeCa('other.org');
    bundles = X509BundleSet.of([ca.bundle, other.bundle]);
  });
  const opts = { time: T0 };

  it('accepts a leaf signed by the root of its own trust domain', async () => {
    const l = await leaf(ca);
    const r = verify([l], bundles, opts);
    assert.equal(r.id.toString(), 'spiffe://example.org/workload');
    assert.equal(r.verifiedChains.length, 1);
    assert.deepEqual(
      r.verifiedChains[0]?.map((c) => c.subject),
      [l.subject, ca.cert.subject],
    );
  });

  it('accepts a chain through an intermediate CA', async () => {
    const ik = ecKey('P-384');
    const inter = await createCaCertificate({
      trustDomain: ca.td,
      publicKey: ik.publicKey,
      issuer: { certificate: ca.cert, privateKey: ca.key.privateKey },
      now: T0,
    });
    const l = await leaf({ cert: inter, key: ik });
    const r = verify([l, inter], bundles, opts);
    assert.equal(r.verifiedChains[0]?.length, 3);
    // without the intermediate the leaf does not chain
    assert.throws(() => verify([l], bundles, opts), isReason('UNTRUSTED_CHAIN', 'BAD_SIGNATURE'));
  });

  it('rejects a URI SAN with two IDs', async () => {
    const l = await leaf(ca, { uris: ['spiffe://example.org/a', 'spiffe://example.org/b'] });
    assert.throws(() => verify([l], bundles, opts), isReason('MULTIPLE_URI_SANS', 'BAD_SIGNATURE'));
  });

  it('rejects a leaf without URI SAN', async () => {
    const l = await leaf(ca, { uris: [] });
    assert.throws(() => verify([l], bundles, opts), isReason('NO_URI_SAN'));
  });

  it('rejects a URI SAN that is not a SPIFFE ID', async () => {
    const l = await leaf(ca, { uris: ['https://example.org/x'] });
    assert.throws(() => verify([l], bundles, opts), isReason('BAD_SPIFFE_ID'));
  });

  it('rejects a CA leaf', async () => {
    const l = await leaf(ca, { ca: true, keyUsages: KeyUsageFlags.digitalSignature });
    assert.throws(
      () => verify([l], bundles, opts),
      (e: unknown) => isReason('LEAF_IS_CA')(e) && (e as Error).message === 'x509svid: leaf is a CA',
    );
  });

  it('rejects a leaf without digitalSignature', async () => {
    const l = await leaf(ca, { keyUsages: KeyUsageFlags.keyEncipherment });
    assert.throws(() => verify([l], bundles, opts), isReason('LEAF_MISSING_DIGITAL_SIGNATURE'));
  });

  it('rejects a leaf with keyCertSign', async () => {
    const l = await leaf(ca, { keyUsages: KeyUsageFlags.digitalSignature | KeyUsageFlags.keyCertSign });
    assert.throws(() => verify([l], bundles, opts), isReason('LEAF_HAS_KEY_CERT_SIGN'));
  });

  it('rejects a leaf with cRLSign', async () => {
    const l = await leaf(ca, { keyUsages: KeyUsageFlags.digitalSignature | KeyUsageFlags.cRLSign });
    assert.throws(() => verify([l], bundles, opts), isReason('LEAF_HAS_CRL_SIGN'));
  });

  it('rejects an expired leaf and a leaf not yet valid', async () => {
    const l = await leaf(ca, { notAfter: new Date(T0.getTime() - 1000) });
    assert.throws(
      () => verify([l], bundles, opts),
      (e: unknown) => isReason('CERT_EXPIRED')(e) && /leaf certificate expired/.test((e as Error).message),
    );
    const young = await leaf(ca, { notBefore: new Date(T0.getTime() + HOUR) });
    assert.throws(() => verify([young], bundles, opts), isReason('CERT_NOT_YET_VALID'));
  });

  it('rejects an expired intermediate', async () => {
    const ik = ecKey();
    const inter = await createCaCertificate({
      trustDomain: ca.td,
      publicKey: ik.publicKey,
      issuer: { certificate: ca.cert, privateKey: ca.key.privateKey },
      notBefore: new Date(T0.getTime() - 2 * HOUR),
      notAfter: new Date(T0.getTime() - HOUR),
    });
    const l = await leaf({ cert: inter, key: ik }, { notBefore: new Date(T0.getTime() - 2 * HOUR) });
    assert.throws(
      () => verify([l, inter], bundles, opts),
      (e: unknown) => isReason('CERT_EXPIRED')(e) && /intermediate #1/.test((e as Error).message),
    );
  });

  it('rejects an intermediate that is not a CA', async () => {
    const ik = ecKey();
    const notCa = await createCertificate({
      subject: 'CN=not a ca',
      publicKey: ik.publicKey,
      issuer: { certificate: ca.cert, privateKey: ca.key.privateKey },
      notBefore: new Date(T0.getTime() - HOUR),
      notAfter: new Date(T0.getTime() + HOUR),
      ca: false,
      keyUsages: KeyUsageFlags.digitalSignature,
    });
    const l = await leaf({ cert: notCa, key: ik });
    assert.throws(() => verify([l, notCa], bundles, opts), isReason('INTERMEDIATE_NOT_CA'));
  });

  it("rejects a certificate issued by another trust domain's CA", async () => {
    // the leaf claims example.org but other.org's CA signed it: only example.org's roots may vouch for it
    const l = await leaf(other);
    assert.throws(() => verify([l], bundles, opts), isReason('UNTRUSTED_CHAIN'));
    // and with no bundle for the SVID's trust domain at all
    assert.throws(() => verify([l], other.bundle, opts), isReason('NO_BUNDLE', 'BAD_SIGNATURE'));
  });

  it('rejects an expired root', async () => {
    const old = await makeCa('example.org', new Date(T0.getTime() - 40 * 24 * HOUR));
    const l = await leaf(old);
    assert.throws(
      () => verify([l], old.bundle, opts),
      (e: unknown) => isReason('CERT_EXPIRED')(e) && /root/.test((e as Error).message),
    );
  });

  it('enforces path length constraints', async () => {
    const k1 = ecKey();
    const i1 = await createCaCertificate({
      trustDomain: ca.td,
      publicKey: k1.publicKey,
      issuer: { certificate: ca.cert, privateKey: ca.key.privateKey },
      now: T0,
      pathLength: 0,
    });
    const k2 = ecKey();
    const i2 = await createCaCertificate({
      trustDomain: ca.td,
      publicKey: k2.publicKey,
      issuer: { certificate: i1, privateKey: k1.privateKey },
      now: T0,
    });
    const l = await leaf({ cert: i2, key: k2 });
    assert.throws(() => verify([l, i2, i1], bundles, opts), isReason('PATH_LEN_EXCEEDED'));
  });

  it('rejects an empty chain; a failure exits 1', () => {
    assert.throws(
      () => verify([], bundles, opts),
      (e: unknown) => isReason('NO_CERTIFICATES')(e) && exitCodeFor((e as X509SvidError).code) === 1,
    );
  });
});

describe('X509Svid.parse', () => {
  let ca: TestCa;
  let dir: string;
  before(async () => {
    ca = await makeCa('example.org', new Date()); // these SVIDs are issued at the real time
    dir = await mkdtemp(join(tmpdir(), 'evident-x509svid-'));
  });

  async function goodSvid(): Promise<{ svid: X509Svid; key: KeyPair; cert: X509Certificate }> {
    const key = ecKey();
    const cert = await createX509Svid({
      id: SpiffeId.parse('spiffe://example.org/w'),
      publicKey: key.publicKey,
      issuer: { certificate: ca.cert, privateKey: ca.key.privateKey },
    });
    return { svid: X509Svid.fromParts([cert], key.privateKey), key, cert };
  }

  it('round-trips PEM and DER, and verifies what createX509Svid issues', async () => {
    const { svid } = await goodSvid();
    const pem = svid.marshal();
    assert.match(pem.certificates, /^-----BEGIN CERTIFICATE-----\n/);
    assert.match(pem.privateKey, /^-----BEGIN PRIVATE KEY-----\n/);
    const fromPem = X509Svid.parse(pem.certificates, pem.privateKey);
    const raw = svid.marshalRaw();
    const fromDer = X509Svid.parse(raw.certificates, raw.privateKey);
    assert.equal(fromPem.id.toString(), 'spiffe://example.org/w');
    assert.deepEqual(fromDer.marshalRaw().certificates, raw.certificates);
    assert.equal(verify(fromDer, ca.bundle).id.toString(), 'spiffe://example.org/w');
    // backdated (docs/ARCHITECTURE.md, formats) a few seconds, never beyond the CA
    const l = fromDer.leaf;
    assert.ok(l.notBefore.getTime() < Date.now());
    assert.ok(l.notAfter.getTime() <= ca.cert.notAfter.getTime());
  });

  it('splits a concatenated DER chain and rejects a truncated one', async () => {
    const ik = ecKey();
    const inter = await createCaCertificate({
      trustDomain: ca.td,
      publicKey: ik.publicKey,
      issuer: { certificate: ca.cert, privateKey: ca.key.privateKey },
    });
    const key = ecKey();
    const l = await createX509Svid({
      id: SpiffeId.parse('spiffe://example.org/w'),
      publicKey: key.publicKey,
      issuer: { certificate: inter, privateKey: ik.privateKey },
    });
    const svid = X509Svid.fromParts([l, inter], key.privateKey);
    const raw = svid.marshalRaw();
    assert.equal(X509Svid.parse(raw.certificates, raw.privateKey).certificates.length, 2);
    const truncated = raw.certificates.subarray(0, raw.certificates.length - 20);
    assert.throws(
      () => X509Svid.parse(truncated, raw.privateKey),
      (e: unknown) =>
        isReason('BAD_CERTIFICATE', 'BAD_INPUT')(e) && /certificate #2: truncated or malformed DER/.test((e as Error).message),
    );
    assert.throws(() => X509Svid.parse(Buffer.from('garbage'), raw.privateKey), isReason('BAD_CERTIFICATE'));
    assert.throws(() => X509Svid.parse(Buffer.alloc(0), raw.privateKey), isReason('NO_CERTIFICATES'));
  });

  it('rejects a key that does not match the leaf, and a non-PKCS#8 key', async () => {
    const { svid } = await goodSvid();
    const raw = svid.marshalRaw();
    const stranger = ecKey().privateKey.export({ type: 'pkcs8', format: 'der' });
    assert.throws(() => X509Svid.parse(raw.certificates, stranger), isReason('KEY_MISMATCH'));
    const sec1 = svid.privateKey.export({ type: 'sec1', format: 'pem' }) as string;
    assert.throws(() => X509Svid.parse(raw.certificates, sec1), isReason('BAD_KEY'));
    assert.throws(() => X509Svid.parse(raw.certificates, Buffer.from([1, 2, 3])), isReason('BAD_KEY'));
  });

  it('rejects a CA leaf at parse time too', async () => {
    const key = ecKey();
    const l = await leaf(ca, { ca: true }, key);
    assert.throws(() => X509Svid.fromParts([l], key.privateKey), isReason('LEAF_IS_CA', 'BAD_INPUT'));
  });

  it('issues with WebCrypto CryptoKeys as well as KeyObjects (RSA and P-384 too)', async () => {
    const { webcrypto, generateKeyPairSync } = await import('node:crypto');
    const caKeys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, false, [
      'sign',
      'verify',
    ])) as import('node:crypto').webcrypto.CryptoKeyPair;
    const td = ca.td;
    const root = await createCaCertificate({ trustDomain: td, publicKey: caKeys.publicKey, privateKey: caKeys.privateKey });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const l = await createX509Svid({
      id: SpiffeId.parse('spiffe://example.org/rsa'),
      publicKey: rsa.publicKey,
      issuer: { certificate: root, privateKey: caKeys.privateKey },
    });
    const svid = X509Svid.fromParts([l], rsa.privateKey);
    const { X509Bundle } = await import('../../src/spiffe/bundle/index.js');
    assert.equal(verify(svid, X509Bundle.fromAuthorities(td, [root])).id.toString(), 'spiffe://example.org/rsa');
  });

  it('loads from files and names the bad file', async () => {
    const { svid } = await goodSvid();
    const pem = svid.marshal();
    await writeFile(join(dir, 'svid.pem'), pem.certificates);
    await writeFile(join(dir, 'svid.key'), pem.privateKey);
    await writeFile(join(dir, 'other.key'), ecKey().privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    assert.equal((await X509Svid.load(join(dir, 'svid.pem'), join(dir, 'svid.key'))).id.toString(), 'spiffe://example.org/w');
    await assert.rejects(
      X509Svid.load(join(dir, 'svid.pem'), join(dir, 'other.key')),
      (e: unknown) => isReason('KEY_MISMATCH')(e) && (e as X509SvidError).file === join(dir, 'other.key'),
    );
    await rm(dir, { recursive: true, force: true });
  });
});
