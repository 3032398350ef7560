// What the server's CA certificates say, and how its leaves name them (docs/ARCHITECTURE.md, formats).
// Leaves themselves: ca.test.ts.
import assert from 'node:assert/strict';
import { execFileSync } from '../../helpers/child-process.js';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as x509 from '../../../src/crypto/x509/x509.js';
import { toPem } from '../../../src/crypto/x509/index.js';
import { CA_KEY_TYPES, createRootCert, generateSigningKey, loadUpstreamCa } from '../../../src/identity/server/ca/index.js';
import { ecKey } from '../../helpers/pki.js';
import { caEnv, T0, TD } from './helpers.js';

const H = 3_600_000;

/**
 * `openssl verify -x509_strict` of `leaf` (PEM file) for both TLS purposes an SVID serves, at `at` (ms): the
 * chain, key usages, basic constraints and the strict X.509 rules checked by a tool no one here wrote.
 */
function opensslAccepts(dir: string, trusted: string, leaf: string, at: number, untrusted?: string): void {
  for (const purpose of ['sslclient', 'sslserver']) {
    const args = ['verify', '-x509_strict', '-purpose', purpose, '-attime', String(Math.floor(at / 1000)), '-CAfile', trusted];
    if (untrusted !== undefined) args.push('-untrusted', untrusted);
    const out = execFileSync('openssl', [...args, leaf], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.match(out, /: OK$/m, `openssl verify -purpose ${purpose}`);
  }
}

const ownKeyId = (c: x509.X509Certificate) => c.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
const authorityKeyId = (c: x509.X509Certificate) => c.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId;

describe('the server CA certificates', () => {
  it('the root: cA (critical, no path length), keyCertSign + cRLSign (critical), the trust domain URI, its key id and no authority key id', async () => {
    const env = await caEnv();
    try {
      const root = new x509.X509Certificate(env.ca.bundle().x509Authorities[0]!);
      assert.match(root.subject, /^CN=evident root [0-9a-f]{12}, O=evident$/);
      assert.equal(root.issuer, root.subject);
      assert.equal(root.notAfter.getTime() - root.notBefore.getTime(), 10 * 365 * 24 * H + 10_000, 'ten years, backdated 10 s');
      const bc = root.getExtension(x509.BasicConstraintsExtension)!;
      assert.deepEqual([bc.critical, bc.ca, bc.pathLength], [true, true, undefined]);
      const ku = root.getExtension(x509.KeyUsagesExtension)!;
      assert.deepEqual([ku.critical, ku.usages], [true, x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign]);
      const san = root.getExtension(x509.SubjectAlternativeNameExtension)!;
      assert.deepEqual(
        san.names.items.map((n) => [n.type, n.value]),
        [['url', `spiffe://${TD}`]],
      );
      const ski = await x509.SubjectKeyIdentifierExtension.create(root.publicKey.rawData, false, x509.X509_CRYPTO);
      assert.equal(ownKeyId(root), ski.keyId);
      assert.equal(root.getExtension(x509.AuthorityKeyIdentifierExtension), null);
      assert.equal(root.getExtension(x509.ExtendedKeyUsageExtension), null);
    } finally {
      await env.close();
    }
  });

  it("the signing CA: an intermediate under the root, naming the root's key; a leaf names the signing CA's", async () => {
    const env = await caEnv();
    try {
      const root = new x509.X509Certificate(env.ca.bundle().x509Authorities[0]!);
      const ca = env.ca.caCertificates()[0]!;
      assert.match(ca.subject, /^CN=evident CA [0-9a-f]{12}, O=evident$/);
      assert.equal(ca.issuer, root.subject);
      assert.equal(authorityKeyId(ca), ownKeyId(root));
      assert.equal(ca.notAfter.getTime() - ca.notBefore.getTime(), 24 * H + 10_000, 'the CA TTL');
      const bc = ca.getExtension(x509.BasicConstraintsExtension)!;
      assert.deepEqual([bc.critical, bc.ca], [true, true]);
      const ku = ca.getExtension(x509.KeyUsagesExtension)!;
      assert.deepEqual([ku.critical, ku.usages], [true, x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign]);

      const svid = await env.ca.signX509Svid(`spiffe://${TD}/w`, ecKey().spki);
      assert.equal(svid.chain.length, 2, 'leaf + signing CA; the root is the anchor');
      const leaf = new x509.X509Certificate(svid.chain[0]!);
      assert.equal(leaf.issuer, ca.subject);
      assert.equal(authorityKeyId(leaf), ownKeyId(ca), "a leaf names its CA's key");
      assert.equal(leaf.getExtension(x509.SubjectKeyIdentifierExtension), null, 'and not its own');
      assert.equal(leaf.subject, 'O=evident');
    } finally {
      await env.close();
    }
  });

  it("an intermediate under an upstream CA names the upstream's key", async () => {
    const upKey = await generateSigningKey('ec-p384');
    const upCert = await createRootCert({
      trustDomain: 'corp.example',
      key: upKey,
      notBefore: new Date(T0 - H),
      notAfter: new Date(T0 + 100 * H),
    });
    const probe = await caEnv();
    await writeFile(join(probe.dir, 'up.pem'), toPem('CERTIFICATE', new Uint8Array(upCert.rawData)));
    await writeFile(join(probe.dir, 'up.key'), upKey.pkcs8Pem);
    const upstream = await loadUpstreamCa(join(probe.dir, 'up.pem'), join(probe.dir, 'up.key'));
    await probe.close();
    const env = await caEnv({ upstream });
    try {
      const mid = env.ca.caCertificates()[0]!;
      assert.equal(mid.issuer, upCert.subject);
      assert.equal(authorityKeyId(mid), ownKeyId(upCert));
      assert.equal(mid.signatureAlgorithm.hash.name, 'SHA-384', "signed with the upstream key's algorithm");
      assert.equal(mid.getExtension(x509.BasicConstraintsExtension)?.ca, true);

      const leaf = (await env.ca.signX509Svid(`spiffe://${TD}/w`, ecKey().spki)).chain[0]!;
      await writeFile(join(env.dir, 'up.pem'), toPem('CERTIFICATE', new Uint8Array(upCert.rawData)));
      await writeFile(join(env.dir, 'mid.pem'), toPem('CERTIFICATE', new Uint8Array(mid.rawData)));
      await writeFile(join(env.dir, 'leaf.pem'), toPem('CERTIFICATE', leaf));
      opensslAccepts(env.dir, 'up.pem', 'leaf.pem', T0 + H / 2, 'mid.pem');
    } finally {
      await env.close();
    }
  });

  it("a leaf never starts before its CA, even when the server's clock went back", async () => {
    const env = await caEnv();
    try {
      const ca = env.ca.caCertificates()[0]!;
      env.clock.set(T0 - 60_000);
      const leaf = new x509.X509Certificate((await env.ca.signX509Svid(`spiffe://${TD}/w`, ecKey().spki)).chain[0]!);
      assert.equal(leaf.notBefore.getTime(), ca.notBefore.getTime());
    } finally {
      await env.close();
    }
  });

  for (const keyType of CA_KEY_TYPES) {
    it(`openssl accepts the root, the signing CA and an SVID it signs, for both TLS purposes (${keyType})`, async () => {
      const env = await caEnv({ keyType });
      try {
        const [leaf, ...chain] = (await env.ca.signX509Svid(`spiffe://${TD}/w`, ecKey().spki)).chain;
        await writeFile(join(env.dir, 'root.pem'), toPem('CERTIFICATE', env.ca.bundle().x509Authorities[0]!));
        await writeFile(join(env.dir, 'chain.pem'), chain.map((c) => toPem('CERTIFICATE', c)).join(''));
        await writeFile(join(env.dir, 'leaf.pem'), toPem('CERTIFICATE', leaf!));
        opensslAccepts(env.dir, 'root.pem', 'leaf.pem', T0 + H / 2, 'chain.pem');
        assert.throws(
          () => opensslAccepts(env.dir, 'root.pem', 'leaf.pem', T0 + 2 * H, 'chain.pem'),
          /expired/,
          'and refuses it once it expired',
        );
        assert.throws(
          () => opensslAccepts(env.dir, 'root.pem', 'leaf.pem', T0 + H / 2),
          /unable to get local issuer/,
          'the chain needs its CA',
        );
      } finally {
        await env.close();
      }
    });
  }
});
