// Certificates are written from DER pieces (src/spiffe/x509svid/issue.ts over src/crypto/der.ts), not
// through the ASN.1 library's schemas: here the library, and openssl, check what was written.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from '../helpers/child-process.js';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asn1, AsnConvert } from '../../src/crypto/x509/x509.js';
import { certificatesToPem } from '../../src/crypto/x509/index.js';
import { SpiffeId } from '../../src/spiffe/spiffeid/index.js';
import { createCertificate, ExtendedKeyUsage, KeyUsageFlags, PreparedIssuer } from '../../src/spiffe/x509svid/index.js';
import { ecKey, makeCa, T0 } from '../helpers/pki.js';

/** DER the library parses and writes again to the same bytes: canonical, and what its schemas describe. */
function assertLibraryReencodes(der: Uint8Array): asn1.Certificate {
  const parsed = AsnConvert.parse(der, asn1.Certificate);
  assert.deepEqual(Buffer.from(AsnConvert.serialize(parsed)), Buffer.from(der));
  return parsed;
}

describe('certificates written from DER pieces', () => {
  it('an X509-SVID leaf: re-encoded byte for byte by the library, verified by openssl against its CA', async () => {
    const ca = await makeCa('example.org');
    const issuer = PreparedIssuer.of({ certificate: ca.cert, privateKey: ca.key.privateKey });
    const spki = ecKey().publicKey.export({ format: 'der', type: 'spki' });
    const leaf = issuer.issueX509Svid({
      id: SpiffeId.parse('spiffe://example.org/ci/builder'),
      publicKey: spki,
      dnsNames: ['builder.example.org'],
      now: T0,
      serialNumber: 'ff00000000000000000000000000000a', // high bit: a leading zero octet
      keyUsages: KeyUsageFlags.digitalSignature,
      subjectKeyIdentifier: false,
    });
    const parsed = assertLibraryReencodes(leaf.der);
    assert.equal(leaf.serialNumber, 'ff00000000000000000000000000000a');
    assert.equal(Buffer.from(parsed.tbsCertificate.serialNumber).toString('hex'), '00ff00000000000000000000000000000a');
    const dir = mkdtempSync(join(tmpdir(), 'evident-der-'));
    try {
      writeFileSync(join(dir, 'ca.pem'), certificatesToPem([ca.cert]));
      writeFileSync(join(dir, 'leaf.pem'), certificatesToPem([leaf.der]));
      const verified = execFileSync(
        'openssl',
        ['verify', '-attime', String(T0.getTime() / 1000 + 60), '-CAfile', join(dir, 'ca.pem'), join(dir, 'leaf.pem')],
        {
          encoding: 'utf8',
        },
      );
      assert.match(verified, /leaf\.pem: OK/);
      const text = execFileSync('openssl', ['x509', '-in', join(dir, 'leaf.pem'), '-noout', '-text'], { encoding: 'utf8' });
      assert.match(text, /URI:spiffe:\/\/example\.org\/ci\/builder, DNS:builder\.example\.org/);
      assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature/);
      assert.match(text, /TLS Web Server Authentication, TLS Web Client Authentication/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('times: UTCTime through 2049, GeneralizedTime from 2050, whole seconds (RFC 5280 §4.1.2.5)', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const cert = await createCertificate({
      subject: 'CN=root, O=evident',
      publicKey,
      selfSignKey: privateKey,
      notBefore: new Date('2049-12-31T23:59:59.999Z'),
      notAfter: new Date('2050-01-01T00:00:00.500Z'),
      ca: true,
      keyUsages: KeyUsageFlags.keyCertSign,
    });
    const parsed = assertLibraryReencodes(new Uint8Array(cert.rawData));
    const v = parsed.tbsCertificate.validity;
    assert.ok(v.notBefore.utcTime !== undefined && v.notAfter.generalTime !== undefined);
    assert.equal(cert.notBefore.toISOString(), '2049-12-31T23:59:59.000Z');
    assert.equal(cert.notAfter.toISOString(), '2050-01-01T00:00:00.000Z');
  });

  it('a TSA certificate (critical EKU timeStamping) and an Ed25519 and RSA issuer re-encode too', async () => {
    for (const type of ['ed25519', 'rsa'] as const) {
      const pair = type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519');
      const cert = await createCertificate({
        subject: 'CN=evident TSA, O=evident',
        publicKey: pair.publicKey,
        selfSignKey: pair.privateKey,
        notBefore: T0,
        notAfter: new Date(T0.getTime() + 86_400_000),
        keyUsages: KeyUsageFlags.digitalSignature,
        extKeyUsages: [ExtendedKeyUsage.timeStamping],
        extKeyUsageCritical: true,
      });
      assertLibraryReencodes(new Uint8Array(cert.rawData));
      assert.ok(await cert.verify({ signatureOnly: true }), `${type} self-signature`);
    }
  });

  it('refuses a public key that is not a SubjectPublicKeyInfo, and a DNS name that is not ASCII', async () => {
    const ca = await makeCa('example.org');
    const issuer = PreparedIssuer.of({ certificate: ca.cert, privateKey: ca.key.privateKey });
    const id = SpiffeId.parse('spiffe://example.org/w');
    assert.throws(() => issuer.issueX509Svid({ id, publicKey: Buffer.from('not a key'), now: T0 }), /not a DER SubjectPublicKeyInfo/);
    assert.throws(
      () => issuer.issueX509Svid({ id, publicKey: ecKey().publicKey, dnsNames: ['bücher.example'], now: T0 }),
      /is not printable ASCII/,
    );
  });
});
