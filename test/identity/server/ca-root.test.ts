// The trust domain's root: what layouts and agents pin, kept while the signing CAs rotate under it, and
// replaced only by the three explicit steps of root rotation (docs/identity.md).
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { createRootCert, generateSigningKey, rootStep } from '../../../src/identity/server/ca/index.js';
import { certificatesToPem } from '../../../src/crypto/x509/index.js';
import type { CaKey } from '../../../src/identity/server/datastore/index.js';
import { ecKey } from '../../helpers/pki.js';
import { caEnv, T0, TD } from './helpers.js';

const H = 3600_000;

/** Whether an SVID chain (leaf, signing CA) chains to one of `roots` (DER). */
function chainsTo(chain: Buffer[], roots: Buffer[]): boolean {
  const [leaf, ca] = chain.map((d) => new X509Certificate(d));
  if (!leaf!.verify(ca!.publicKey)) return false;
  return roots.some((r) => ca!.verify(new X509Certificate(r).publicKey) && ca!.checkIssued(new X509Certificate(r)));
}

describe("the trust domain's root", () => {
  it('stays the bundle across many signing-CA rotations', async () => {
    const env = await caEnv();
    try {
      const pinned = env.ca.bundle().x509Authorities;
      const signingCas = new Set<string>();
      for (let h = 0; h <= 24 * 5; h += 2) {
        env.clock.set(T0 + h * H);
        await env.ca.rotate();
        const svid = await env.ca.signX509Svid(`spiffe://${TD}/w`, ecKey().spki);
        signingCas.add(svid.chain[1]!.toString('base64'));
        assert.ok(chainsTo(svid.chain, pinned), `an SVID at +${h} h chains to the root pinned at T0`);
        assert.deepEqual(env.ca.bundle().x509Authorities, pinned);
      }
      assert.ok(signingCas.size >= 5, `the signing CA rotated (${signingCas.size} of them)`);
    } finally {
      await env.close();
    }
  });

  it('rotates by prepare, activate and retire; each step keeps what was pinned before it verifying', async () => {
    const env = await caEnv();
    try {
      const oldRoot = env.ca.bundle().x509Authorities[0]!;
      const before = await env.ca.signX509Svid(`spiffe://${TD}/w`, ecKey().spki);

      const prepared = await env.ca.prepareRoot();
      assert.equal(prepared.status, 'prepared');
      const both = env.ca.bundle().x509Authorities;
      assert.equal(both.length, 2, 'published next to the active root, so layouts can pin both');
      assert.ok(both[0]!.equals(oldRoot), 'the active root first');
      const stillOld = await env.ca.signX509Svid(`spiffe://${TD}/w`, ecKey().spki);
      assert.ok(chainsTo(stillOld.chain, [oldRoot]), 'a prepared root signs nothing');
      await assert.rejects(env.ca.prepareRoot(), /a prepared root already exists/);
      await assert.rejects(env.ca.retireRoot(env.ca.rootInfo()[0]!.id), /is the active root/);

      await env.ca.activateRoot(prepared.id);
      const after = await env.ca.signX509Svid(`spiffe://${TD}/w`, ecKey().spki);
      const newRoot = both[1]!;
      assert.ok(
        chainsTo(after.chain, [newRoot]) && !chainsTo(after.chain, [oldRoot]),
        'the signing CA was replaced at once, under the new root',
      );
      assert.ok(chainsTo(before.chain, env.ca.bundle().x509Authorities), 'what the old root signed still verifies against the bundle');
      const oldId = env.ca.rootInfo().find((r) => r.status === 'old')!.id;
      await assert.rejects(env.ca.retireRoot(oldId), /still signs a live signing CA: retire it after/);

      env.clock.set(T0 + 25 * H); // the signing CA the old root signed has expired
      await env.ca.rotate();
      await env.ca.retireRoot(oldId);
      assert.deepEqual(env.ca.bundle().x509Authorities, [newRoot]);
      await assert.rejects(env.ca.retireRoot(oldId), /no root/);
    } finally {
      await env.close();
    }
  });

  it('a prepared root can be abandoned; activating anything but a prepared root is refused', async () => {
    const env = await caEnv();
    try {
      const active = env.ca.rootInfo()[0]!;
      await assert.rejects(env.ca.activateRoot(active.id), /is active, not prepared/);
      await assert.rejects(env.ca.activateRoot('nope'), /no root nope/);
      const prepared = await env.ca.prepareRoot();
      await env.ca.retireRoot(prepared.id);
      assert.equal(env.ca.bundle().x509Authorities.length, 1);
    } finally {
      await env.close();
    }
  });

  it('a server upgraded from self-signed CAs gets a root; the old CA stays in the bundle until it expires', async () => {
    const env = await caEnv();
    try {
      // the datastore as an evident before roots left it: one self-signed x509 CA, active
      const legacyKey = await generateSigningKey('ec-p256');
      const legacy = await createRootCert({
        trustDomain: TD,
        key: legacyKey,
        notBefore: new Date(T0 - H),
        notAfter: new Date(T0 + 10 * H),
      });
      for (const k of await env.ds.caKeys.list()) if (k.kind !== 'jwt') await env.ds.caKeys.delete(k.id);
      await env.ds.caKeys.create({
        id: 'legacy',
        kind: 'x509',
        status: 'active',
        notBefore: T0 - H,
        notAfter: T0 + 10 * H,
        certPem: certificatesToPem([legacy]),
        privateKeyPem: legacyKey.pkcs8Pem,
        publicJwk: '{}',
        createdAt: T0 - H,
      });
      await env.ca.rotate();
      const bundle = env.ca.bundle().x509Authorities;
      assert.equal(bundle.length, 2, 'the new root and the legacy CA');
      assert.ok(bundle[1]!.equals(Buffer.from(legacy.rawData)));
      const svid = await env.ca.signX509Svid(`spiffe://${TD}/w`, ecKey().spki);
      assert.ok(chainsTo(svid.chain, [bundle[0]!]), 'SVIDs come from a signing CA under the new root');
      env.clock.set(T0 + 10 * H);
      await env.ca.rotate();
      assert.equal(env.ca.bundle().x509Authorities.length, 1, 'the legacy CA leaves the bundle when it expires');
    } finally {
      await env.close();
    }
  });

  it('refuses root rotation with an upstream CA; refuses a root TTL that is not longer than the CA TTL', async () => {
    await assert.rejects(caEnv({ rootTtl: 3600 }), /root TTL \(3600s\) must be longer than the CA TTL/);
    const upKey = await generateSigningKey('ec-p256');
    const up = await createRootCert({
      trustDomain: 'corp.example',
      key: upKey,
      notBefore: new Date(T0 - H),
      notAfter: new Date(T0 + 100 * H),
    });
    const env = await caEnv({ upstream: { cert: up, key: upKey, chain: [], roots: [Buffer.from(up.rawData)] } });
    try {
      assert.deepEqual(env.ca.rootInfo(), [], 'no root of its own');
      assert.deepEqual(env.ca.bundle().x509Authorities, [Buffer.from(up.rawData)]);
      await assert.rejects(env.ca.prepareRoot(), /the trust domain's root is the upstream CA's/);
      const svid = await env.ca.signX509Svid(`spiffe://${TD}/w`, ecKey().spki);
      assert.ok(chainsTo(svid.chain, [Buffer.from(up.rawData)]));
    } finally {
      await env.close();
    }
  });

  it('rootStep: a root is created or a prepared one activated only when no active root is left', () => {
    const k = (status: CaKey['status'], notAfter: number, id = status): CaKey => ({
      id,
      kind: 'root',
      status,
      notBefore: 0,
      notAfter,
      certPem: '',
      privateKeyPem: '',
      publicJwk: '',
      createdAt: 0,
    });
    assert.deepEqual(rootStep([], 0), { action: 'create-active' });
    assert.deepEqual(rootStep([k('active', 100)], 99), { action: 'none' }, 'never rotated on a timer, even close to expiry');
    assert.deepEqual(rootStep([k('active', 100), k('prepared', 200)], 99), { action: 'none' });
    assert.deepEqual(rootStep([k('active', 100), k('prepared', 200)], 100), { action: 'activate', id: 'prepared' });
    assert.deepEqual(rootStep([k('old', 300)], 100), { action: 'create-active' });
  });
});
