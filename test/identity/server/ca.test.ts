import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { decodeProtectedHeader, importJWK, jwtVerify } from 'jose';
import { rotationStep } from '../../../src/identity/server/ca/index.js';
import * as x509 from '../../../src/crypto/x509/x509.js';
import type { CaKey } from '../../../src/identity/server/datastore/index.js';
import { ecKey } from '../../helpers/pki.js';
import { caEnv, T0, TD } from './helpers.js';

const H = 3600_000;

describe('CA issuing', () => {
  it('creates a self-signed P-256 root, a signing CA under it, and signs a leaf exactly as the X.509-SVID format requires', async () => {
    const env = await caEnv();
    try {
      const [rootDer] = env.ca.bundle().x509Authorities;
      const root = new x509.X509Certificate(rootDer!);
      assert.equal(root.subject, root.issuer);
      assert.equal(root.getExtension(x509.BasicConstraintsExtension)?.ca, true);
      assert.equal((root.publicKey.algorithm as EcKeyAlgorithmLike).namedCurve, 'P-256');
      assert.equal(root.notAfter.getTime() - root.notBefore.getTime(), 10 * 365 * 24 * H + 10_000);

      const svid = await env.ca.signX509Svid(`spiffe://${TD}/web`, ecKey().spki, 0, ['web.example.org']);
      assert.equal(svid.chain.length, 2);
      const leaf = new x509.X509Certificate(svid.chain[0]!);
      const san = leaf.getExtension(x509.SubjectAlternativeNameExtension)!;
      const uris = san.names.items.filter((n) => n.type === 'url').map((n) => n.value);
      assert.deepEqual(uris, [`spiffe://${TD}/web`]);
      assert.deepEqual(
        san.names.items.filter((n) => n.type === 'dns').map((n) => n.value),
        ['web.example.org'],
      );
      const bc = leaf.getExtension(x509.BasicConstraintsExtension)!;
      assert.equal(bc.ca, false);
      const ku = leaf.getExtension(x509.KeyUsagesExtension)!;
      assert.equal(ku.critical, true);
      assert.equal(ku.usages, x509.KeyUsageFlags.digitalSignature);
      const eku = leaf.getExtension(x509.ExtendedKeyUsageExtension)!;
      assert.deepEqual([...eku.usages].sort(), [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth].sort());
      assert.equal(leaf.notBefore.getTime(), T0 - 10_000, 'NotBefore a few seconds back');
      assert.equal(leaf.notAfter.getTime(), T0 + H, 'default X509-SVID TTL 1h');
      // it really chains, leaf to signing CA to root: node's own verifier agrees
      const [nodeLeaf, nodeCa, nodeRoot] = [svid.chain[0]!, svid.chain[1]!, rootDer!].map((d) => new X509Certificate(d));
      assert.ok(nodeLeaf!.checkIssued(nodeCa!) && nodeLeaf!.verify(nodeCa!.publicKey));
      assert.ok(nodeCa!.checkIssued(nodeRoot!) && nodeCa!.verify(nodeRoot!.publicKey));
      assert.equal(Date.parse(nodeCa!.validTo) - Date.parse(nodeCa!.validFrom), 24 * H + 10_000, 'the signing CA lives the CA TTL');
    } finally {
      await env.close();
    }
  });

  it('never issues past the CA NotAfter, and honours a per-entry TTL', async () => {
    const env = await caEnv();
    try {
      const short = await env.ca.signX509Svid(`spiffe://${TD}/a`, ecKey().spki, 60);
      assert.equal(short.notAfter, T0 + 60_000);
      env.clock.advance(23.5 * H); // rotation not run: the same CA, 30 min left
      const clipped = await env.ca.signX509Svid(`spiffe://${TD}/a`, ecKey().spki);
      const leaf = new x509.X509Certificate(clipped.chain[0]!);
      const caCert = new x509.X509Certificate(clipped.chain[1]!);
      assert.equal(leaf.notAfter.getTime(), caCert.notAfter.getTime());
    } finally {
      await env.close();
    }
  });

  it('refuses a public key that is not SPKI DER', async () => {
    const env = await caEnv();
    try {
      await assert.rejects(env.ca.signX509Svid(`spiffe://${TD}/a`, Buffer.from('garbage')), /cannot sign for this public key/);
    } finally {
      await env.close();
    }
  });

  it('signs JWT-SVIDs with ES256, a kid from the bundle, and a 5 min default TTL', async () => {
    const env = await caEnv();
    try {
      const { token, expiresAt } = await env.ca.signJwtSvid(`spiffe://${TD}/a`, ['aud1']);
      assert.equal(expiresAt, T0 + 300_000);
      const hdr = decodeProtectedHeader(token);
      assert.equal(hdr.alg, 'ES256');
      assert.equal(hdr.typ, 'JWT');
      const auth = env.ca.bundle().jwtAuthorities.find((a) => a.kid === hdr.kid);
      assert.ok(auth, 'kid is published');
      const key = await importJWK(auth.jwk as Parameters<typeof importJWK>[0], 'ES256');
      const { payload } = await jwtVerify(token, key, { audience: 'aud1', currentDate: new Date(T0) });
      assert.equal(payload.sub, `spiffe://${TD}/a`);
      await assert.rejects(env.ca.signJwtSvid(`spiffe://${TD}/a`, []), /at least one audience/);
    } finally {
      await env.close();
    }
  });

  it('keeps its keys across a restart (same datastore, new manager)', async () => {
    const env = await caEnv();
    try {
      const before = env.ca.bundle();
      const { CaManager } = await import('../../../src/identity/server/ca/index.js');
      const again = await CaManager.open({
        trustDomain: TD,
        datastore: env.ds,
        clock: env.clock,
        caTtl: 86400,
        x509SvidTtl: 3600,
        jwtSvidTtl: 300,
        keyType: 'ec-p256',
      });
      assert.deepEqual(again.bundle().x509Authorities, before.x509Authorities);
      assert.deepEqual(again.bundle().jwtAuthorities, before.jwtAuthorities);
    } finally {
      await env.close();
    }
  });
});

interface EcKeyAlgorithmLike {
  namedCurve: string;
}

describe('CA rotation timeline (frozen clock)', () => {
  it('prepares at half life, activates at one sixth, drops the old one when it expires', async () => {
    const env = await caEnv();
    try {
      const statuses = () =>
        env.ca
          .keys()
          .filter((k) => k.kind === 'x509')
          .map((k) => k.status);
      const first = env.ca.keys().find((k) => k.kind === 'x509')!;
      assert.deepEqual(statuses(), ['active']);
      const svidA = await env.ca.signX509Svid(`spiffe://${TD}/a`, ecKey().spki);

      env.clock.set(T0 + 11.9 * H);
      assert.equal(await env.ca.rotate(), false, 'nothing before half life');
      env.clock.set(T0 + 12 * H);
      assert.equal(await env.ca.rotate(), true);
      assert.deepEqual(statuses(), ['active', 'prepared']);
      const root = env.ca.bundle().x509Authorities;
      assert.equal(root.length, 1, 'the bundle is the root alone: a signing CA is never a trust anchor');
      assert.equal(env.ca.bundle().jwtAuthorities.length, 2, 'JWT keys rotate on the same schedule, published before they sign');
      const svidB = await env.ca.signX509Svid(`spiffe://${TD}/a`, ecKey().spki);
      assert.deepEqual(svidB.chain[1], svidA.chain[1], 'still signed by the first CA');

      env.clock.set(T0 + 19.9 * H);
      assert.equal(await env.ca.rotate(), false);
      env.clock.set(T0 + 20 * H);
      assert.equal(await env.ca.rotate(), true);
      assert.deepEqual(statuses(), ['old', 'active']);
      const svidC = await env.ca.signX509Svid(`spiffe://${TD}/a`, ecKey().spki);
      assert.notDeepEqual(svidC.chain[1], svidA.chain[1], 'now signed by the next CA');
      assert.deepEqual(env.ca.bundle().x509Authorities, root, 'the bundle did not change: what pins the root keeps working');
      const rootCert = new X509Certificate(root[0]!);
      for (const svid of [svidA, svidC]) assert.ok(new X509Certificate(svid.chain[1]!).verify(rootCert.publicKey));

      // the first CA stays among the server's signing CAs (the anchors of its own agents) until it expires
      const firstDer = svidA.chain[1]!;
      const known = () => env.ca.caCertificates().some((c) => Buffer.from(c.rawData).equals(firstDer));
      env.clock.set(first.notAfter - 1);
      await env.ca.rotate();
      assert.equal(known(), true, 'kept until the last moment anything it signed is valid');
      env.clock.set(first.notAfter);
      assert.equal(await env.ca.rotate(), true);
      assert.equal(known(), false, 'dropped once everything it signed has expired');
      assert.equal(statuses().includes('old'), false);
      assert.equal(
        (await env.ds.caKeys.list()).some((k) => k.id === first.id),
        false,
        'pruned from the datastore',
      );
    } finally {
      await env.close();
    }
  });

  it('recovers from a long outage: an expired active CA is replaced at once', async () => {
    const env = await caEnv();
    try {
      env.clock.set(T0 + 48 * H);
      assert.equal(await env.ca.rotate(), true);
      assert.deepEqual(
        env.ca.keys().map((k) => [k.kind, k.status]),
        [
          ['root', 'active'],
          ['x509', 'active'],
          ['jwt', 'active'],
        ],
      );
      const svid = await env.ca.signX509Svid(`spiffe://${TD}/a`, ecKey().spki);
      assert.equal(svid.notAfter, T0 + 49 * H);
    } finally {
      await env.close();
    }
  });

  it('rotationStep: the pure schedule', () => {
    const k = (status: CaKey['status'], notBefore: number, notAfter: number, id = status): CaKey => ({
      id,
      kind: 'x509',
      status,
      notBefore,
      notAfter,
      certPem: '',
      privateKeyPem: '',
      publicJwk: '',
      createdAt: 0,
    });
    assert.deepEqual(rotationStep([], 0), { action: 'create-active' });
    assert.deepEqual(rotationStep([k('prepared', 0, 100)], 10), { action: 'activate', id: 'prepared' });
    assert.deepEqual(rotationStep([k('active', 0, 120)], 59), { action: 'none' });
    assert.deepEqual(rotationStep([k('active', 0, 120)], 60), { action: 'create-prepared' });
    assert.deepEqual(rotationStep([k('active', 0, 120), k('prepared', 60, 180)], 99), { action: 'none' });
    assert.deepEqual(rotationStep([k('active', 0, 120), k('prepared', 60, 180)], 100), { action: 'activate', id: 'prepared' });
    assert.deepEqual(rotationStep([k('active', 0, 120)], 120), { action: 'create-active' });
  });
});

describe('CA formats and upstream', () => {
  it('publishes the bundle in the SPIFFE format (x5c keys and kid-ed JWT keys)', async () => {
    const { bundleToSpiffeJson, bundleToPem } = await import('../../../src/identity/server/ca/index.js');
    const env = await caEnv();
    try {
      const b = env.ca.bundle();
      const doc = bundleToSpiffeJson(b) as { keys: Record<string, unknown>[]; spiffe_sequence: number; spiffe_refresh_hint: number };
      const xk = doc.keys.filter((k) => k.use === 'x509-svid');
      assert.equal(xk.length, 1);
      assert.deepEqual(xk[0]!.x5c, [b.x509Authorities[0]!.toString('base64')]);
      assert.equal(xk[0]!.kty, 'EC');
      const jk = doc.keys.filter((k) => k.use === 'jwt-svid');
      assert.equal(jk.length, 1);
      assert.equal(jk[0]!.kid, b.jwtAuthorities[0]!.kid);
      assert.equal(doc.spiffe_sequence, 1);
      assert.ok(doc.spiffe_refresh_hint > 0);
      assert.match(bundleToPem(b), /^-----BEGIN CERTIFICATE-----\n/);
    } finally {
      await env.close();
    }
  });

  it('signs as an intermediate under an upstream CA; the bundle is the upstream root', async () => {
    const { createRootCert, generateSigningKey, loadUpstreamCa } = await import('../../../src/identity/server/ca/index.js');
    const { toPem } = await import('../../../src/crypto/x509/index.js');
    const { writeFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const upKey = await generateSigningKey('ec-p256');
    const upCert = await createRootCert({
      trustDomain: 'corp.example',
      key: upKey,
      notBefore: new Date(T0 - H),
      notAfter: new Date(T0 + 100 * H),
    });
    const probe = await caEnv();
    const certFile = join(probe.dir, 'up.pem');
    const keyFile = join(probe.dir, 'up.key');
    await writeFile(certFile, toPem('CERTIFICATE', Buffer.from(upCert.rawData)));
    await writeFile(keyFile, upKey.pkcs8Pem);
    const upstream = await loadUpstreamCa(certFile, keyFile);
    const other = await generateSigningKey('ec-p256');
    await writeFile(keyFile + '2', other.pkcs8Pem);
    await assert.rejects(loadUpstreamCa(certFile, keyFile + '2'), /does not match/);
    await probe.close();

    const env = await caEnv({ upstream });
    try {
      const b = env.ca.bundle();
      assert.deepEqual(b.x509Authorities, [Buffer.from(upCert.rawData)]);
      const svid = await env.ca.signX509Svid(`spiffe://${TD}/x`, ecKey().spki);
      assert.equal(svid.chain.length, 2, 'leaf + the server CA (the upstream root is the anchor)');
      const leaf = new X509Certificate(svid.chain[0]!);
      const mid = new X509Certificate(svid.chain[1]!);
      const root = new X509Certificate(b.x509Authorities[0]!);
      assert.ok(leaf.checkIssued(mid) && leaf.verify(mid.publicKey));
      assert.ok(mid.checkIssued(root) && mid.verify(root.publicKey));
      assert.equal(mid.ca, true);
    } finally {
      await env.close();
    }
  });
});

describe('CA key types', () => {
  for (const keyType of ['ec-p384', 'rsa-2048'] as const) {
    it(`${keyType}: the CA signs leaves node's verifier accepts`, async () => {
      const env = await caEnv({ keyType });
      try {
        const svid = await env.ca.signX509Svid(`spiffe://${TD}/k`, ecKey().spki);
        const [leaf, ca, root] = [svid.chain[0]!, svid.chain[1]!, env.ca.bundle().x509Authorities[0]!].map((d) => new X509Certificate(d));
        assert.ok(leaf!.checkIssued(ca!) && leaf!.verify(ca!.publicKey));
        assert.ok(ca!.checkIssued(root!) && ca!.verify(root!.publicKey));
        assert.equal(new x509.X509Certificate(svid.chain[0]!).serialNumber, svid.serial);
      } finally {
        await env.close();
      }
    });
  }
});
