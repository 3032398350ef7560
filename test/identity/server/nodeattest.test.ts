import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCaCert, generateSigningKey, LeafSigner, toPem } from '../../../src/identity/server/ca/index.js';
import * as x509 from '../../../src/crypto/x509/x509.js';
import { adminRequest, answerX509popChallenge, ManualClock, serverSpiffeId, x509popPayload } from '../../../src/identity/server/index.js';
import { sha1Hex } from '../../../src/identity/server/nodeattest/x509pop.js';
import { TD } from './helpers.js';
import { newKey, startServer, type Running } from './server-fixture.js';

interface NodeCa {
  cert: x509.X509Certificate;
  key: Awaited<ReturnType<typeof generateSigningKey>>;
  issue(cn: string): Promise<{ der: Buffer; key: KeyObject }>;
}

async function nodeCa(parent?: NodeCa): Promise<NodeCa> {
  const key = await generateSigningKey('ec-p256');
  const now = Date.now();
  const cert = await createCaCert({
    trustDomain: 'nodes.example', key, notBefore: new Date(now - 60_000), notAfter: new Date(now + 86_400_000),
    ...(parent ? { upstream: { cert: parent.cert, key: parent.key } } : {}),
  });
  const signer = await LeafSigner.create(new Uint8Array(cert.rawData), key);
  return {
    cert,
    key,
    async issue(cn) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const leaf = signer.sign({
        spiffeId: 'spiffe://nodes.example/n', publicKey: publicKey.export({ format: 'der', type: 'spki' }), dnsNames: [cn],
        notBefore: new Date(now - 60_000), notAfter: new Date(now + 3_600_000),
      });
      return { der: leaf.der, key: privateKey };
    },
  };
}

function payload(...ders: Buffer[]): Buffer {
  return x509popPayload(ders);
}

describe('x509pop node attestation', () => {
  let r: Running;
  let trusted: NodeCa;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'evident-x509pop-'));
    trusted = await nodeCa();
    const bundle = join(dir, 'node-ca.pem');
    await writeFile(bundle, toPem('CERTIFICATE', Buffer.from(trusted.cert.rawData)));
    r = await startServer({ x509pop_ca_bundle: bundle });
  });
  after(async () => {
    await r.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a node holding a key certified by the trusted CA attests, with selectors from its certificate', async () => {
    const node = await nodeCa().then(() => trusted.issue('node1.example'));
    const res = await r.anonymous().attest({ type: 'x509pop', payload: payload(node.der), key: { public_key: newKey().spki } },
      (challenge) => answerX509popChallenge(challenge, node.key));
    const fp = sha1Hex(node.der);
    assert.equal(res.svid?.spiffe_id, `spiffe://${TD}/evident/agent/x509pop/${fp}`);
    const agents = (await adminRequest(r.server.config.adminSocket, 'GET', '/v1/agents')).body as { agents: { spiffe_id: string; selectors: string[] }[] };
    const a = agents.agents.find((x) => x.spiffe_id === res.svid!.spiffe_id)!;
    assert.ok(a.selectors.includes('x509pop:subject:cn:node1.example'));
    assert.ok(a.selectors.includes(`x509pop:fingerprint:${fp}`));
    assert.ok(a.selectors.includes(`x509pop:ca:fingerprint:${sha1Hex(Buffer.from(trusted.cert.rawData))}`));
    // x509pop may attest again (the node still holds its key)
    const again = await r.anonymous().attest({ type: 'x509pop', payload: payload(node.der), key: { public_key: newKey().spki } },
      (challenge) => answerX509popChallenge(challenge, node.key));
    assert.equal(again.svid?.spiffe_id, res.svid?.spiffe_id);
  });

  it('node-selector entries make workload entries reach every matching agent', async () => {
    const node = await trusted.issue('build-7.example');
    await adminRequest(r.server.config.adminSocket, 'POST', '/v1/entries', {
      spiffe_id: `spiffe://${TD}/nodes/builders`, parent_id: serverSpiffeId(TD), selectors: ['x509pop:subject:cn:build-7.example'],
    });
    const wl = (await adminRequest(r.server.config.adminSocket, 'POST', '/v1/entries', {
      spiffe_id: `spiffe://${TD}/ci/job`, parent_id: `spiffe://${TD}/nodes/builders`, selectors: ['unix:uid:1001'],
    })).body as { id: string };
    const agentKey = newKey();
    const res = await r.anonymous().attest({ type: 'x509pop', payload: payload(node.der), key: { public_key: agentKey.spki } },
      (c) => answerX509popChallenge(c, node.key));
    const entries = await r.as(res.svid!, agentKey.privateKey).fetchEntries();
    assert.deepEqual(entries.map((e) => e.id), [wl.id]);
  });

  it('intermediates sent with the certificate complete the chain; without them it does not verify', async () => {
    const mid = await nodeCa(trusted);
    const node = await mid.issue('node3.example');
    const answer = (c: Buffer) => answerX509popChallenge(c, node.key);
    const res = await r.anonymous().attest({ type: 'x509pop', payload: payload(node.der, Buffer.from(mid.cert.rawData)), key: { public_key: newKey().spki } }, answer);
    assert.equal(res.svid?.spiffe_id, `spiffe://${TD}/evident/agent/x509pop/${sha1Hex(node.der)}`);
    await assert.rejects(r.anonymous().attest({ type: 'x509pop', payload: payload(node.der), key: { public_key: newKey().spki } }, answer), /does not chain/);
  });

  it('a certificate from another CA is refused', async () => {
    const rogue = await (await nodeCa()).issue('node1.example');
    await assert.rejects(
      r.anonymous().attest({ type: 'x509pop', payload: payload(rogue.der), key: { public_key: newKey().spki } }, (c) => answerX509popChallenge(c, rogue.key)),
      /does not chain to a trusted CA/,
    );
  });

  it('a node that cannot sign the challenge with the certificate key is refused', async () => {
    const node = await trusted.issue('node2.example');
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    await assert.rejects(
      r.anonymous().attest({ type: 'x509pop', payload: payload(node.der), key: { public_key: newKey().spki } }, (c) => answerX509popChallenge(c, other)),
      /challenge signature does not verify/,
    );
  });

  it('garbage payloads are refused cleanly', async () => {
    await assert.rejects(r.anonymous().attest({ type: 'x509pop', payload: Buffer.from('{'), key: { public_key: newKey().spki } }), /malformed/);
    await assert.rejects(r.anonymous().attest({ type: 'x509pop', payload: payload(Buffer.from('notacert')), key: { public_key: newKey().spki } }), /malformed/);
  });
});

describe('join token expiry (frozen clock)', () => {
  let r: Running;
  const clock = new ManualClock(Date.now());
  before(async () => {
    r = await startServer({}, clock);
  });
  after(() => r.close());

  it('a token is refused once its TTL has passed', async () => {
    const t1 = ((await adminRequest(r.server.config.adminSocket, 'POST', '/v1/join-tokens', { ttl: 60 })).body as { token: string }).token;
    const t2 = ((await adminRequest(r.server.config.adminSocket, 'POST', '/v1/join-tokens', { ttl: 60 })).body as { token: string }).token;
    clock.advance(59_000);
    assert.ok((await r.anonymous().attest({ type: 'join_token', payload: Buffer.from(t1), key: { public_key: newKey().spki } })).svid);
    clock.advance(1_000);
    await assert.rejects(r.anonymous().attest({ type: 'join_token', payload: Buffer.from(t2), key: { public_key: newKey().spki } }), /expired/);
  });
});
