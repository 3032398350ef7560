// x509pop node attestation checks the node's certificate chain with the one X.509 path validation
// (src/crypto/x509): the rules it enforces for signatures (key usage of CAs, path length) protect the
// server's agent authentication too, and the payload and challenge are the agent's own (identity/common).
import assert from 'node:assert/strict';
import type { KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { answerX509popChallenge, x509popPayload } from '../../../src/identity/common/index.js';
import { ManualClock, X509popAttestor } from '../../../src/identity/server/index.js';
import { sha1Hex } from '../../../src/identity/server/nodeattest/x509pop.js';
import { KeyUsageFlags } from '../../../src/spiffe/x509svid/index.js';
import { HOUR, makeCert, makeIntermediate, makeRoot, T0, type CertOptions, type TestCert } from '../../helpers/pki.js';

const NOW = T0.getTime();
/** Every certificate here is valid from an hour before NOW to an hour after it. */
const VALID = { notBefore: new Date(NOW - HOUR), notAfter: new Date(NOW + HOUR) };

const root = (): Promise<TestCert> => makeRoot('node', VALID);

const intermediate = (parent: TestCert, { name = 'node', ...o }: CertOptions & { name?: string } = {}): Promise<TestCert> =>
  makeIntermediate(parent, name, { ...VALID, ...o });

async function node(parent: TestCert, cn: string): Promise<{ der: Buffer; key: KeyObject }> {
  const n = await makeCert({ subject: `CN=${cn}`, issuer: parent, ca: false, ...VALID });
  return { der: n.der, key: n.key.privateKey };
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
    const result = await attest(new X509popAttestor([r.der], new ManualClock(NOW)), [n.der, mid.der], n.key);
    assert.equal(result.agentIdSuffix, sha1Hex(n.der));
    assert.deepEqual(
      result.selectors.map((s) => `${s.type}:${s.value}`),
      [
        `x509pop:fingerprint:${sha1Hex(n.der)}`,
        'x509pop:subject:cn:node1.example',
        `x509pop:ca:fingerprint:${sha1Hex(mid.der)}`,
        `x509pop:ca:fingerprint:${sha1Hex(r.der)}`,
      ],
    );
  });

  it('refuses an intermediate CA that may not sign certificates (keyUsage without keyCertSign)', async () => {
    const r = await root();
    const mid = await intermediate(r, { keyUsages: KeyUsageFlags.digitalSignature });
    const n = await node(mid, 'node2.example');
    await assert.rejects(
      attest(new X509popAttestor([r.der], new ManualClock(NOW)), [n.der, mid.der], n.key),
      /does not chain to a trusted CA/,
    );
  });

  it("refuses a path longer than an intermediate's pathLenConstraint allows", async () => {
    const r = await root();
    const mid = await intermediate(r, { pathLength: 0 });
    const low = await intermediate(mid, { name: 'below a pathLen 0 CA' });
    const n = await node(low, 'node3.example');
    await assert.rejects(
      attest(new X509popAttestor([r.der], new ManualClock(NOW)), [n.der, low.der, mid.der], n.key),
      /does not chain to a trusted CA.*path length/,
    );
  });

  it('trusts only the CA certificates of its bundle, and a node certificate only while it is valid', async () => {
    const r = await root();
    const n = await node(r, 'node4.example');
    const notCa = await makeCert({ subject: 'CN=not a CA', ca: false, ...VALID });
    const underNotCa = await node(notCa, 'node5.example');
    await assert.rejects(
      attest(new X509popAttestor([notCa.der], new ManualClock(NOW)), [underNotCa.der], underNotCa.key),
      /does not chain/,
    );
    await assert.rejects(attest(new X509popAttestor([r.der], new ManualClock(NOW + 2 * HOUR)), [n.der], n.key), /not valid now/);
  });
});
