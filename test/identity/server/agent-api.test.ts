import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { X509Svid } from '../../../src/identity/proto/index.js';
import { startServer, TD, type TestServer } from '../../helpers/identity-server.js';
import { ecKey } from '../../helpers/pki.js';

/** Leaf, then the signing CA the SVID carries, then one of the bundle's roots. */
function chainsToBundle(svid: X509Svid, roots: Buffer[]): boolean {
  const [leaf, ca] = svid.cert_chain.map((d) => new X509Certificate(d));
  if (!leaf || !ca || !leaf.checkIssued(ca) || !leaf.verify(ca.publicKey)) return false;
  return roots.some((r) => {
    const root = new X509Certificate(r);
    return ca.checkIssued(root) && ca.verify(root.publicKey);
  });
}

describe('agent API (real gRPC over TLS)', () => {
  let r: TestServer;
  before(async () => {
    r = await startServer();
  });
  after(() => r.close());

  it('join token: attests once, issues the agent SVID, refuses reuse', async () => {
    const t = await r.joinToken();
    const k = ecKey();
    const res = await r.anonymous().attest({ type: 'join_token', payload: Buffer.from(t), key: { public_key: k.spki } });
    assert.equal(res.svid?.spiffe_id, `spiffe://${TD}/evident/agent/join_token/${t}`);
    assert.ok(chainsToBundle(res.svid!, res.bundle!.x509_authorities));
    const uri = new X509Certificate(res.svid!.cert_chain[0]!).subjectAltName;
    assert.equal(uri, `URI:spiffe://${TD}/evident/agent/join_token/${t}`);
    await assert.rejects(
      r.anonymous().attest({ type: 'join_token', payload: Buffer.from(t), key: { public_key: ecKey().spki } }),
      (e: Error & { cause?: { code?: number } }) => /already used/.test(e.message) && e.cause?.code === 7 /* PERMISSION_DENIED */,
    );
  });

  it('join token: unknown and malformed tokens and a bad key are refused', async () => {
    await assert.rejects(
      r.anonymous().attest({ type: 'join_token', payload: Buffer.from('nope'), key: { public_key: ecKey().spki } }),
      /unknown/,
    );
    await assert.rejects(
      r.anonymous().attest({ type: 'join_token', payload: Buffer.from('a b'), key: { public_key: ecKey().spki } }),
      /malformed/,
    );
    const t = await r.joinToken();
    await assert.rejects(
      r.anonymous().attest({ type: 'join_token', payload: Buffer.from(t), key: { public_key: Buffer.from('junk') } }),
      /SPKI/,
    );
    // the bad key did not spend the token
    const ok = await r.anonymous().attest({ type: 'join_token', payload: Buffer.from(t), key: { public_key: ecKey().spki } });
    assert.ok(ok.svid);
    await assert.rejects(
      r.anonymous().attest({ type: 'tpm', payload: Buffer.alloc(0), key: { public_key: ecKey().spki } }),
      /unknown attestor 'tpm'/,
    );
  });

  it('calls after attestation need the agent SVID (mTLS); eviction ends access', async () => {
    await assert.rejects(r.anonymous().fetchEntries(), /no client certificate/);
    const t = await r.joinToken();
    const k = ecKey();
    const res = await r.anonymous().attest({ type: 'join_token', payload: Buffer.from(t), key: { public_key: k.spki } });
    const agent = r.as(res.svid!, k.privateKey);
    assert.deepEqual(await agent.fetchEntries(), []);
    const renewed = await agent.renew({ public_key: ecKey().spki });
    assert.equal(renewed.spiffe_id, res.svid!.spiffe_id);
    await r.admin('DELETE', `/v1/agents?id=${encodeURIComponent(res.svid!.spiffe_id)}`);
    await assert.rejects(agent.fetchEntries(), /not attested/);
  });

  it('a renewed agent SVID takes over once used: the one before it is refused from then on, as in SPIRE', async () => {
    const t = await r.joinToken();
    const k1 = ecKey();
    const first = await r.anonymous().attest({ type: 'join_token', payload: Buffer.from(t), key: { public_key: k1.spki } });
    const agent1 = r.as(first.svid!, k1.privateKey);
    const k2 = ecKey();
    const second = await agent1.renew({ public_key: k2.spki });
    // until the renewed SVID is used, the current one still works (an agent may crash before it switches)
    assert.deepEqual(await agent1.fetchEntries(), []);
    const k3 = ecKey();
    const third = await agent1.renew({ public_key: k3.spki });
    const agent3 = r.as(third, k3.privateKey);
    assert.deepEqual(await agent3.fetchEntries(), [], 'the newest renewal is the one that takes over');
    const refused = (e: Error & { cause?: { code?: number } }) =>
      /is not the current SVID/.test(e.message) && e.cause?.code === 7; /* PERMISSION_DENIED */
    await assert.rejects(agent1.fetchEntries(), refused, 'the SVID before it is refused');
    await assert.rejects(r.as(second, k2.privateKey).fetchEntries(), refused, 'a renewal never used is refused too');
    await assert.rejects(agent1.renew({ public_key: ecKey().spki }), refused, 'an old SVID cannot renew itself back in');
    const stored = (await r.admin('GET', '/v1/agents')) as { agents: { spiffe_id: string; serial: string }[] };
    const serial = new X509Certificate(third.cert_chain[0]!).serialNumber;
    assert.equal(BigInt(`0x${stored.agents.find((a) => a.spiffe_id === third.spiffe_id)!.serial}`), BigInt(`0x${serial}`));
  });

  it("FetchEntries, SignX509Svids and SignJwtSvid serve only the agent's entries", async () => {
    const t = await r.joinToken({ spiffe_id: `spiffe://${TD}/node/alias` });
    const k = ecKey();
    const res = await r.anonymous().attest({ type: 'join_token', payload: Buffer.from(t), key: { public_key: k.spki } });
    const agentId = res.svid!.spiffe_id;
    const { id: direct } = await r.createEntry('/web', agentId, ['unix:uid:1000'], { dns_names: ['web.example.org'], x509_svid_ttl: 120 });
    const { id: viaAlias } = await r.createEntry('/db', `spiffe://${TD}/node/alias`, ['unix:uid:999']);
    const { id: foreign } = await r.createEntry('/other', `spiffe://${TD}/evident/agent/join_token/someone-else`, ['unix:uid:1']);
    const agent = r.as(res.svid!, k.privateKey);
    const ids = (await agent.fetchEntries()).map((e) => e.id).sort();
    assert.deepEqual(ids, [direct, viaAlias].sort());

    const wk = ecKey();
    const results = await agent.signX509Svids([
      { entry_id: direct, key: { public_key: wk.spki } },
      { entry_id: viaAlias, key: { public_key: wk.spki } },
      { entry_id: foreign, key: { public_key: wk.spki } },
      { entry_id: direct, key: { public_key: Buffer.from('x') } },
    ]);
    assert.equal(results[0]!.svid?.spiffe_id, `spiffe://${TD}/web`);
    assert.match(new X509Certificate(results[0]!.svid!.cert_chain[0]!).subjectAltName ?? '', /DNS:web\.example\.org/);
    const leaf = new X509Certificate(results[0]!.svid!.cert_chain[0]!);
    assert.ok(Date.parse(leaf.validTo) - Date.parse(leaf.validFrom) <= 130_000, 'the entry TTL (120 s) is used');
    assert.equal(results[1]!.svid?.spiffe_id, `spiffe://${TD}/db`);
    assert.match(results[2]!.error, /not one this agent may serve/);
    assert.ok(!results[2]!.svid);
    assert.match(results[3]!.error, /SPKI/);
    const bundle = await agent.fetchBundle();
    assert.ok(chainsToBundle(results[1]!.svid!, bundle.x509_authorities));

    const jwt = await agent.signJwtSvid({ entry_id: direct, audience: ['svc'] });
    assert.equal(jwt.spiffe_id, `spiffe://${TD}/web`);
    assert.ok(bundle.jwt_authorities.some((j) => JSON.parse(Buffer.from(jwt.token.split('.')[0]!, 'base64url').toString()).kid === j.kid));
    await assert.rejects(agent.signJwtSvid({ entry_id: foreign, audience: ['svc'] }), /not one this agent may serve/);
    await assert.rejects(agent.signJwtSvid({ entry_id: direct, audience: [] }), /audience is required/);
  });

  it('a CSR works as the key request, and a CSR with a bad signature is refused', async () => {
    const t = await r.joinToken();
    const x509 = await import('../../../src/crypto/x509/x509.js');
    const { webcrypto } = await import('node:crypto');
    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
    const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=agent', keys, signingAlgorithm: alg });
    const raw = Buffer.from(csr.rawData);
    const bad = Buffer.from(raw);
    bad[bad.length - 5] ^= 0xff;
    await assert.rejects(r.anonymous().attest({ type: 'join_token', payload: Buffer.from(t), key: { csr: bad } }), /csr/);
    const res = await r.anonymous().attest({ type: 'join_token', payload: Buffer.from(t), key: { csr: raw } });
    const spki = Buffer.from(await webcrypto.subtle.exportKey('spki', keys.publicKey));
    assert.ok(new X509Certificate(res.svid!.cert_chain[0]!).publicKey.export({ format: 'der', type: 'spki' }).equals(spki));
  });
});

type CryptoKeyPair = import('node:crypto').webcrypto.CryptoKeyPair;
