// Certificate issuing (src/spiffe/x509svid/issue.ts): the one module every certificate comes from, the
// identity server's CA included.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCertificatesPem, toPem } from '../../src/crypto/x509/index.js';
import { SpiffeId, TrustDomain } from '../../src/spiffe/spiffeid/index.js';
import { X509Bundle } from '../../src/spiffe/bundle/index.js';
import { createCertificate, createX509Svid, PreparedIssuer, verify } from '../../src/spiffe/x509svid/index.js';
import { ecKey, HOUR, makeCa, openSslCa, T0 } from '../helpers/pki.js';

const ID = SpiffeId.parse('spiffe://example.org/w');

describe('createX509Svid validity', () => {
  it("backdates NotBefore a few seconds, but never before the issuer's NotBefore", async () => {
    const ca = await makeCa('example.org'); // valid from T0 - 10 s
    const issuer = { certificate: ca.cert, privateKey: ca.key.privateKey };
    const now = await createX509Svid({ id: ID, publicKey: ecKey().publicKey, issuer, now: new Date(T0.getTime() + HOUR) });
    assert.equal(now.notBefore.getTime(), T0.getTime() + HOUR - 10_000);
    // the issuing clock behind the CA's: the leaf starts with the CA, not before it
    const early = await createX509Svid({ id: ID, publicKey: ecKey().publicKey, issuer, now: new Date(T0.getTime() - HOUR) });
    assert.equal(early.notBefore.getTime(), ca.cert.notBefore.getTime());
    const late = await createX509Svid({ id: ID, publicKey: ecKey().publicKey, issuer, now: new Date(ca.cert.notAfter.getTime() - 60_000) });
    assert.equal(late.notAfter.getTime(), ca.cert.notAfter.getTime(), "NotAfter capped at the CA's");
  });
});

describe('the issuer name', () => {
  it("is the issuer's subject byte for byte, also for a CA another tool made (UTF8String names)", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'evident-issue-'));
    try {
      const made = openSslCa(dir, {
        subject: '/O=corp/CN=corp root',
        extensions: [
          'basicConstraints=critical,CA:TRUE',
          'keyUsage=critical,keyCertSign,cRLSign',
          'subjectAltName=URI:spiffe://example.org',
        ],
      });
      const [ca] = parseCertificatesPem(made.pem);
      const key = createPrivateKey(await readFile(made.keyPath));
      const leaf = await createX509Svid({ id: ID, publicKey: ecKey().publicKey, issuer: { certificate: ca!, privateKey: key } });
      assert.deepEqual(Buffer.from(leaf.issuerName.toArrayBuffer()), Buffer.from(ca!.subjectName.toArrayBuffer()));
      assert.equal(verify([leaf], X509Bundle.fromAuthorities(TrustDomain.parse('example.org'), [ca!])).id.toString(), ID.toString());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('PreparedIssuer', () => {
  it('issues what createX509Svid issues, as DER with its serial, from a CA prepared once', async () => {
    const ca = await makeCa('example.org');
    const issuer = PreparedIssuer.of({ certificate: ca.cert, privateKey: ca.key.privateKey });
    assert.equal(
      PreparedIssuer.of({ certificate: ca.cert, privateKey: ca.key.privateKey }),
      issuer,
      'prepared once per CA certificate and key',
    );
    const issued = issuer.issueX509Svid({ id: ID, publicKey: ecKey().publicKey, now: T0, dnsNames: ['w.example.org'] });
    const [leaf] = parseCertificatesPem(toPem('CERTIFICATE', issued.der));
    assert.equal(leaf!.serialNumber, issued.serialNumber);
    assert.match(issued.serialNumber, /^[0-7][0-9a-f]{31}$/, 'a positive 128-bit serial');
    const reference = await createX509Svid({
      id: ID,
      publicKey: ecKey().publicKey,
      issuer: { certificate: ca.cert, privateKey: ca.key.privateKey },
      now: T0,
      dnsNames: ['w.example.org'],
    });
    assert.deepEqual(
      leaf!.extensions.map((e) => [e.type, e.critical]),
      reference.extensions.map((e) => [e.type, e.critical]),
    );
    assert.equal(verify([leaf!], ca.bundle, { time: T0 }).id.toString(), ID.toString());
  });

  it('writes a given serial as a positive INTEGER and reports it as X509Certificate reads it', async () => {
    const ca = await makeCa('example.org');
    const issuer = { certificate: ca.cert, privateKey: ca.key.privateKey };
    const base = { subject: 'CN=s', publicKey: ecKey().publicKey, issuer, notBefore: T0, notAfter: new Date(T0.getTime() + HOUR) };
    assert.equal((await createCertificate({ ...base, serialNumber: '80' })).serialNumber, '80');
    assert.equal((await createCertificate({ ...base, serialNumber: '000102' })).serialNumber, '0102');
    assert.equal(PreparedIssuer.of(issuer).sign({ ...base, serialNumber: 'ff01' }).serialNumber, 'ff01');
  });
});
