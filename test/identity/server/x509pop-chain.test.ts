// x509pop node attestation checks the node's certificate chain with the one X.509 path validation
// (src/crypto/x509): the rules it enforces for signatures (key usage of CAs, path length) protect the
// server's agent authentication too, and the payload and challenge are the agent's own (identity/common).
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import type { X509Certificate } from '../../../src/crypto/x509/x509.js';
import { answerX509popChallenge, x509popPayload } from '../../../src/identity/common/index.js';
import { ManualClock, X509popAttestor } from '../../../src/identity/server/index.js';
import { sha1Hex } from '../../../src/identity/server/nodeattest/x509pop.js';
import { createCertificate, KeyUsageFlags } from '../../../src/spiffe/x509svid/index.js';

const NOW = Date.UTC(2026, 0, 15, 12);
const HOUR = 3_600_000;

interface Ca {
  cert: X509Certificate;
  key: KeyObject;
}

function ecKeys(): { publicKey: KeyObject; privateKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

async function root(): Promise<Ca> {
  const { publicKey, privateKey } = ecKeys();
  const cert = await createCertificate({
    subject: 'CN=node root', publicKey, selfSignKey: privateKey, notBefore: new Date(NOW - HOUR), notAfter: new Date(NOW + HOUR),
    ca: true, keyUsages: KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign,
  });
  return { cert, key: privateKey };
}

async function intermediate(parent: Ca, over: { keyUsages?: number; pathLength?: number; name?: string } = {}): Promise<Ca> {
  const { publicKey, privateKey } = ecKeys();
  const cert = await createCertificate({
    subject: `CN=${over.name ?? 'node intermediate'}`, publicKey, issuer: { certificate: parent.cert, privateKey: parent.key },
    notBefore: new Date(NOW - HOUR), notAfter: new Date(NOW + HOUR), ca: true, pathLength: over.pathLength,
    keyUsages: over.keyUsages ?? KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign,
  });
  return { cert, key: privateKey };
}

async function node(parent: Ca, cn: string): Promise<{ der: Buffer; key: KeyObject }> {
  const { publicKey, privateKey } = ecKeys();
  const cert = await createCertificate({
    subject: `CN=${cn}`, publicKey, issuer: { certificate: parent.cert, privateKey: parent.key },
    notBefore: new Date(NOW - HOUR), notAfter: new Date(NOW + HOUR), ca: false, keyUsages: KeyUsageFlags.digitalSignature,
  });
  return { der: Buffer.from(cert.rawData), key: privateKey };
}

function der(c: Ca): Buffer {
  return Buffer.from(c.cert.rawData);
}

/** Attests with the node's key answering the server's challenge, as the agent does. */
function attest(attestor: X509popAttestor, chain: Buffer[], key: KeyObject) {
  return attestor.attest(x509popPayload(chain), { challenge: async (nonce) => answerX509popChallenge(nonce, key) });
}

describe('x509pop chains are checked by the one X.509 path validation', () => {
  it('a chain through an intermediate attests, naming every CA on the path', async () => {
    const r = await root();
    const mid = await intermediate(r);
    const n = await node(mid, 'node1.example');
    const result = await attest(new X509popAttestor([der(r)], new ManualClock(NOW)), [n.der, der(mid)], n.key);
    assert.equal(result.agentIdSuffix, sha1Hex(n.der));
    assert.deepEqual(result.selectors.map((s) => `${s.type}:${s.value}`), [
      `x509pop:fingerprint:${sha1Hex(n.der)}`,
      'x509pop:subject:cn:node1.example',
      `x509pop:ca:fingerprint:${sha1Hex(der(mid))}`,
      `x509pop:ca:fingerprint:${sha1Hex(der(r))}`,
    ]);
  });

  it('refuses an intermediate CA that may not sign certificates (keyUsage without keyCertSign)', async () => {
    const r = await root();
    const mid = await intermediate(r, { keyUsages: KeyUsageFlags.digitalSignature });
    const n = await node(mid, 'node2.example');
    await assert.rejects(attest(new X509popAttestor([der(r)], new ManualClock(NOW)), [n.der, der(mid)], n.key),
      /does not chain to a trusted CA/);
  });

  it('refuses a path longer than an intermediate\'s pathLenConstraint allows', async () => {
    const r = await root();
    const mid = await intermediate(r, { pathLength: 0 });
    const low = await intermediate(mid, { name: 'below a pathLen 0 CA' });
    const n = await node(low, 'node3.example');
    await assert.rejects(attest(new X509popAttestor([der(r)], new ManualClock(NOW)), [n.der, der(low), der(mid)], n.key),
      /does not chain to a trusted CA.*path length/);
  });

  it('trusts only the CA certificates of its bundle, and a node certificate only while it is valid', async () => {
    const r = await root();
    const n = await node(r, 'node4.example');
    const plain = ecKeys();
    const notCa: Ca = {
      cert: await createCertificate({
        subject: 'CN=not a CA', publicKey: plain.publicKey, selfSignKey: plain.privateKey, notBefore: new Date(NOW - HOUR), notAfter: new Date(NOW + HOUR), ca: false,
      }),
      key: plain.privateKey,
    };
    const underNotCa = await node(notCa, 'node5.example');
    await assert.rejects(attest(new X509popAttestor([der(notCa)], new ManualClock(NOW)), [underNotCa.der], underNotCa.key), /does not chain/);
    await assert.rejects(attest(new X509popAttestor([der(r)], new ManualClock(NOW + 2 * HOUR)), [n.der], n.key), /not valid now/);
  });
});
