import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { certificateAttributes, parseCertificatesPem, verifyCertificateChain, X509ChainError } from '../../../src/crypto/x509/index.js';
import { makeCert, makeIntermediate, makeRoot, T0 } from '../../helpers/pki.js';

const reason = (r: string, message?: RegExp) => (e: unknown) => {
  assert.ok(e instanceof X509ChainError, String(e));
  assert.equal(e.reason, r);
  assert.equal(e.code, 'BAD_SIGNATURE');
  if (message) assert.match(e.message, message);
  return true;
};

describe('verifyCertificateChain', () => {
  it('finds the path leaf → root, and leaf → intermediate → root', async () => {
    const root = await makeRoot('corp');
    const leaf = await makeCert({ issuer: root });
    const paths = verifyCertificateChain(leaf.cert, { roots: [root.cert], time: T0 });
    assert.deepEqual(paths, [[leaf.cert, root.cert]]);

    const inter = await makeIntermediate(root, 'ci');
    const deep = await makeCert({ issuer: inter });
    const [path] = verifyCertificateChain(deep.cert, { intermediates: [inter.cert], roots: [root.cert], time: T0 });
    assert.deepEqual(path, [deep.cert, inter.cert, root.cert]);
  });

  it('needs the intermediate: without it the leaf is signed by an unknown authority', async () => {
    const root = await makeRoot('corp');
    const inter = await makeIntermediate(root, 'ci');
    const deep = await makeCert({ issuer: inter });
    assert.throws(
      () => verifyCertificateChain(deep.cert, { roots: [root.cert], time: T0 }),
      reason('UNKNOWN_AUTHORITY', /unknown authority/),
    );
  });

  it('refuses another CA, even one with the same name', async () => {
    const root = await makeRoot('corp');
    const impostor = await makeRoot('corp');
    const leaf = await makeCert({ issuer: impostor });
    assert.throws(() => verifyCertificateChain(leaf.cert, { roots: [root.cert], time: T0 }), reason('UNKNOWN_AUTHORITY'));
  });

  it('ignores intermediates that are not on the path, even expired ones', async () => {
    const root = await makeRoot('corp');
    const stale = await makeIntermediate(root, 'old', { notAfter: new Date(T0.getTime() - 1000) });
    const inter = await makeIntermediate(root, 'ci');
    const leaf = await makeCert({ issuer: inter });
    const paths = verifyCertificateChain(leaf.cert, { intermediates: [stale.cert, inter.cert], roots: [root.cert], time: T0 });
    assert.equal(paths.length, 1);
  });

  it('checks validity of the leaf, the intermediate and the root at the given time', async () => {
    const root = await makeRoot('corp');
    const inter = await makeIntermediate(root, 'ci');
    const leaf = await makeCert({ issuer: inter, notAfter: new Date(T0.getTime() + 60_000) });
    const opts = { intermediates: [inter.cert], roots: [root.cert] };
    verifyCertificateChain(leaf.cert, { ...opts, time: T0 });
    assert.throws(
      () => verifyCertificateChain(leaf.cert, { ...opts, time: new Date(T0.getTime() + 61_000) }),
      reason('CERT_EXPIRED', /^leaf certificate expired at /),
    );
    assert.throws(
      () => verifyCertificateChain(leaf.cert, { ...opts, time: new Date(T0.getTime() - 2 * 3600_000) }),
      reason('CERT_NOT_YET_VALID'),
    );

    const shortInter = await makeIntermediate(root, 'ci', { notAfter: new Date(T0.getTime() + 1000) });
    const leaf2 = await makeCert({ issuer: shortInter });
    const later = new Date(T0.getTime() + 2000);
    assert.throws(
      () => verifyCertificateChain(leaf2.cert, { intermediates: [shortInter.cert], roots: [root.cert], time: later }),
      reason('CERT_EXPIRED', /^intermediate .* expired/),
    );

    const shortRoot = await makeRoot('corp', { notAfter: new Date(T0.getTime() + 1000) });
    const leaf3 = await makeCert({ issuer: shortRoot, notAfter: new Date(T0.getTime() + 5000) });
    assert.throws(
      () => verifyCertificateChain(leaf3.cert, { roots: [shortRoot.cert], time: later }),
      reason('CERT_EXPIRED', /^root .* expired/),
    );
  });

  it('an intermediate must be a CA, and path lengths hold', async () => {
    const root = await makeRoot('corp');
    const notCa = await makeCert({ subject: 'CN=not a ca', issuer: root, ca: false });
    const leaf = await makeCert({ issuer: notCa });
    assert.throws(() => verifyCertificateChain(leaf.cert, { intermediates: [notCa.cert], roots: [root.cert], time: T0 }));

    const tight = await makeRoot('tight', { pathLength: 0 });
    const i1 = await makeIntermediate(tight, 'i1');
    const leaf2 = await makeCert({ issuer: i1 });
    assert.throws(
      () => verifyCertificateChain(leaf2.cert, { intermediates: [i1.cert], roots: [tight.cert], time: T0 }),
      reason('PATH_LEN_EXCEEDED'),
    );
    const direct = await makeCert({ issuer: tight });
    assert.equal(verifyCertificateChain(direct.cert, { roots: [tight.cert], time: T0 }).length, 1);
  });
});

describe('certificateAttributes and parseCertificatesPem', () => {
  it('reads every name constraints look at', async () => {
    const root = await makeRoot('corp');
    const c = await makeCert({
      subject: 'CN=builder, O=Corp, O=Ops',
      issuer: root,
      uris: ['spiffe://corp.example/ci/builder'],
      dnsNames: ['ci.corp.example', 'build.corp.example'],
      emails: ['ci@corp.example'],
      carried: [root],
    });
    const [leaf, carried] = parseCertificatesPem(c.chainPem);
    assert.equal(carried!.subject, root.cert.subject);
    const a = certificateAttributes(leaf!);
    assert.equal(a.commonName, 'builder');
    assert.deepEqual(a.organizations, ['Corp', 'Ops']);
    assert.deepEqual(a.uris, ['spiffe://corp.example/ci/builder']);
    assert.deepEqual(a.dnsNames, ['ci.corp.example', 'build.corp.example']);
    assert.deepEqual(a.emails, ['ci@corp.example']);
    const bare = certificateAttributes((await makeCert({ subject: 'O=x' })).cert);
    assert.equal(bare.commonName, '');
    assert.deepEqual([bare.uris, bare.dnsNames, bare.emails], [[], [], []]);
  });

  it('refuses text without a certificate, and a broken one', () => {
    assert.throws(
      () => parseCertificatesPem('hello'),
      (e: unknown) => e instanceof X509ChainError && e.reason === 'BAD_CERTIFICATE' && e.code === 'BAD_INPUT',
    );
    assert.throws(
      () => parseCertificatesPem('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'),
      /certificate #1 cannot be parsed/,
    );
  });
});
