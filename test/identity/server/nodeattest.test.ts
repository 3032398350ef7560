import assert from 'node:assert/strict';
import type { KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { answerX509popChallenge, ManualClock, serverSpiffeId, x509popPayload } from '../../../src/identity/server/index.js';
import { sha1Hex } from '../../../src/identity/server/nodeattest/x509pop.js';
import { startServer, TD, type TestServer } from '../../helpers/identity-server.js';
import { ecKey, makeCert, makeIntermediate, makeRoot, type TestCert } from '../../helpers/pki.js';

/** A node CA (a root, or an intermediate of `parent`) valid now, issuing node certificates named by their CN. */
interface NodeCa extends TestCert {
  issue(cn: string): Promise<{ der: Buffer; key: KeyObject }>;
}

async function nodeCa(parent?: NodeCa): Promise<NodeCa> {
  const now = new Date();
  const ca = parent ? await makeIntermediate(parent, 'nodes', { now }) : await makeRoot('nodes', { now });
  return {
    ...ca,
    async issue(cn) {
      const node = await makeCert({ subject: `CN=${cn}`, issuer: ca, uris: ['spiffe://nodes.example/n'], dnsNames: [cn], now });
      return { der: node.der, key: node.key.privateKey };
    },
  };
}

function payload(...ders: Buffer[]): Buffer {
  return x509popPayload(ders);
}

describe('x509pop node attestation', () => {
  let r: TestServer;
  let trusted: NodeCa;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'evident-x509pop-'));
    trusted = await nodeCa();
    const bundle = join(dir, 'node-ca.pem');
    await writeFile(bundle, trusted.pem);
    r = await startServer({ settings: { x509pop_ca_bundle: bundle } });
  });
  after(async () => {
    await r.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a node holding a key certified by the trusted CA attests, with selectors from its certificate', async () => {
    const node = await nodeCa().then(() => trusted.issue('node1.example'));
    const res = await r
      .anonymous()
      .attest({ type: 'x509pop', payload: payload(node.der), key: { public_key: ecKey().spki } }, (challenge) =>
        answerX509popChallenge(challenge, node.key),
      );
    const fp = sha1Hex(node.der);
    assert.equal(res.svid?.spiffe_id, `spiffe://${TD}/evident/agent/x509pop/${fp}`);
    const agents = (await r.admin('GET', '/v1/agents')) as { agents: { spiffe_id: string; selectors: string[] }[] };
    const a = agents.agents.find((x) => x.spiffe_id === res.svid!.spiffe_id)!;
    assert.ok(a.selectors.includes('x509pop:subject:cn:node1.example'));
    assert.ok(a.selectors.includes(`x509pop:fingerprint:${fp}`));
    assert.ok(a.selectors.includes(`x509pop:ca:fingerprint:${sha1Hex(trusted.der)}`));
    // x509pop may attest again (the node still holds its key)
    const again = await r
      .anonymous()
      .attest({ type: 'x509pop', payload: payload(node.der), key: { public_key: ecKey().spki } }, (challenge) =>
        answerX509popChallenge(challenge, node.key),
      );
    assert.equal(again.svid?.spiffe_id, res.svid?.spiffe_id);
  });

  it('node-selector entries make workload entries reach every matching agent', async () => {
    const node = await trusted.issue('build-7.example');
    await r.createEntry('/nodes/builders', serverSpiffeId(TD), ['x509pop:subject:cn:build-7.example']);
    const wl = await r.createEntry('/ci/job', `spiffe://${TD}/nodes/builders`, ['unix:uid:1001']);
    const agentKey = ecKey();
    const res = await r
      .anonymous()
      .attest({ type: 'x509pop', payload: payload(node.der), key: { public_key: agentKey.spki } }, (c) =>
        answerX509popChallenge(c, node.key),
      );
    const entries = await r.as(res.svid!, agentKey.privateKey).fetchEntries();
    assert.deepEqual(
      entries.map((e) => e.id),
      [wl.id],
    );
  });

  it('intermediates sent with the certificate complete the chain; without them it does not verify', async () => {
    const mid = await nodeCa(trusted);
    const node = await mid.issue('node3.example');
    const answer = (c: Buffer) => answerX509popChallenge(c, node.key);
    const res = await r
      .anonymous()
      .attest({ type: 'x509pop', payload: payload(node.der, mid.der), key: { public_key: ecKey().spki } }, answer);
    assert.equal(res.svid?.spiffe_id, `spiffe://${TD}/evident/agent/x509pop/${sha1Hex(node.der)}`);
    await assert.rejects(
      r.anonymous().attest({ type: 'x509pop', payload: payload(node.der), key: { public_key: ecKey().spki } }, answer),
      /does not chain/,
    );
  });

  it('a certificate from another CA is refused', async () => {
    const rogue = await (await nodeCa()).issue('node1.example');
    await assert.rejects(
      r
        .anonymous()
        .attest({ type: 'x509pop', payload: payload(rogue.der), key: { public_key: ecKey().spki } }, (c) =>
          answerX509popChallenge(c, rogue.key),
        ),
      /does not chain to a trusted CA/,
    );
  });

  it('a node that cannot sign the challenge with the certificate key is refused', async () => {
    const node = await trusted.issue('node2.example');
    const other = ecKey().privateKey;
    await assert.rejects(
      r
        .anonymous()
        .attest({ type: 'x509pop', payload: payload(node.der), key: { public_key: ecKey().spki } }, (c) =>
          answerX509popChallenge(c, other),
        ),
      /challenge signature does not verify/,
    );
  });

  it('garbage payloads are refused cleanly', async () => {
    await assert.rejects(
      r.anonymous().attest({ type: 'x509pop', payload: Buffer.from('{'), key: { public_key: ecKey().spki } }),
      /malformed/,
    );
    await assert.rejects(
      r.anonymous().attest({ type: 'x509pop', payload: payload(Buffer.from('notacert')), key: { public_key: ecKey().spki } }),
      /malformed/,
    );
  });
});

describe('join token expiry (frozen clock)', () => {
  let r: TestServer;
  const clock = new ManualClock(Date.now());
  before(async () => {
    r = await startServer({ clock });
  });
  after(() => r.close());

  it('a token is refused once its TTL has passed', async () => {
    const t1 = await r.joinToken({ ttl: 60 });
    const t2 = await r.joinToken({ ttl: 60 });
    clock.advance(59_000);
    assert.ok((await r.anonymous().attest({ type: 'join_token', payload: Buffer.from(t1), key: { public_key: ecKey().spki } })).svid);
    clock.advance(1_000);
    await assert.rejects(
      r.anonymous().attest({ type: 'join_token', payload: Buffer.from(t2), key: { public_key: ecKey().spki } }),
      /expired/,
    );
  });
});
