/**
 * TPM node attestation against the server's attestor, each test with its own TPM (swtpm) and an in-process
 * identity server on real TLS: the agent's side is evident's TpmAttestorClient (src/tpm underneath), so
 * the TPM really opens the server's credential. What a wrong agent does (a replayed or forged answer, an
 * answer out of time, an AK that is no attestation key, another machine) is done here by hand.
 */
import assert from 'node:assert/strict';
import { randomBytes, X509Certificate } from 'node:crypto';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { TpmAttestorClient } from '../../../src/identity/agent/tpm-attestor-client.js';
import { TPM_TYPE, tpmPayload } from '../../../src/identity/common/tpm.js';
import { ManualClock, serverSpiffeId } from '../../../src/identity/server/index.js';
import { ActivationChallenge } from '../../../src/identity/server/nodeattest/tpm-activation.js';
import type { AttestResult } from '../../../src/identity/proto/index.js';
import {
  activateCredential,
  AK_ATTRIBUTES,
  akTemplate,
  createAk,
  createEk,
  publicKeySha256,
  publicKeySpki,
  readEkCertificate,
  TPMA_OBJECT,
  type EkKind,
} from '../../../src/tpm/index.js';
import { startServer, TD, type TestServer } from '../../helpers/identity-server.js';
import { ecKey, makeRoot } from '../../helpers/pki.js';
import { manufactureState, skipUnlessSwtpm, startSwtpm, type Swtpm } from '../../helpers/swtpm.js';

type Answer = (challenge: Buffer, client: TpmAttestorClient) => Promise<Buffer>;

/** One attestation of `client`'s TPM against `r`, answered by `answer` (the TPM itself by default); the TPM's keys are flushed after. */
async function attest(r: TestServer, client: TpmAttestorClient, answer?: Answer): Promise<AttestResult> {
  try {
    const payload = await client.payload();
    return await r
      .anonymous()
      .attest({ type: TPM_TYPE, payload, key: { public_key: ecKey().spki } }, (c) => (answer ? answer(c, client) : client.answer(c)));
  } finally {
    await client.close();
  }
}

/** The EK hash of a simulator, read with evident's own TPM code (tpm2-tools agrees: test/tpm/ek.test.ts, test/e2e/tpm-attestation.test.ts). */
async function ekHash(sim: Swtpm, kind: EkKind = 'ecc'): Promise<string> {
  const tpm = await sim.open();
  const ek = await createEk(tpm, kind);
  await tpm.flushContext(ek.handle);
  return publicKeySha256(ek.public);
}

/** Runs `body` with a fresh simulator (and a server when `server` says how), stopped after. */
async function withTpm(
  t: Parameters<typeof skipUnlessSwtpm>[0],
  body: (sim: Swtpm) => Promise<void>,
  o: { setup?: boolean; stateDir?: string } = {},
): Promise<void> {
  if (skipUnlessSwtpm(t, { setup: o.setup === true })) return;
  const sim = await startSwtpm(o.stateDir !== undefined ? { stateDir: o.stateDir } : {});
  try {
    await body(sim);
  } finally {
    await sim.stop();
  }
}

/** The agent API answered PermissionDenied (the client keeps the gRPC error as the cause). */
const permissionDenied = (e: Error): boolean => (e.cause as { code?: number } | undefined)?.code === status.PERMISSION_DENIED;

const agentsOf = async (r: TestServer) =>
  ((await r.admin('GET', '/v1/agents')) as { agents: { spiffe_id: string; selectors: string[]; attestation_type: string }[] }).agents;

describe('TPM node attestation: the server attestor against a real TPM', () => {
  it('a TPM attests as …/evident/agent/tpm/<EK hash>, with tpm:pub_hash, again under the same ID, and a node entry on the hash reaches it', async (t) => {
    await withTpm(t, async (sim) => {
      const r = await startServer({ settings: { tpm: true } });
      try {
        const hash = await ekHash(sim);
        const client = new TpmAttestorClient({ tcti: sim.tcti, ek: 'ecc' });
        const first = await attest(r, client);
        assert.equal(first.svid?.spiffe_id, `spiffe://${TD}/evident/agent/tpm/${hash}`);
        const [agent] = await agentsOf(r);
        assert.deepEqual(agent!.selectors, [`tpm:pub_hash:${hash}`]);
        assert.equal(agent!.attestation_type, 'tpm');

        // re-attestation (an evicted agent, an expired SVID): the same TPM, the same ID
        const agentKey = ecKey();
        const again = await (async () => {
          try {
            const payload = await client.payload();
            return await r.anonymous().attest({ type: TPM_TYPE, payload, key: { public_key: agentKey.spki } }, (c) => client.answer(c));
          } finally {
            await client.close();
          }
        })();
        assert.equal(again.svid?.spiffe_id, first.svid?.spiffe_id);

        await r.createEntry('/nodes/tpm-machines', serverSpiffeId(TD), [`tpm:pub_hash:${hash}`]);
        const wl = await r.createEntry('/ci/job', `spiffe://${TD}/nodes/tpm-machines`, ['unix:uid:1001']);
        const byAgentId = await r.createEntry('/ci/other', again.svid!.spiffe_id, ['unix:uid:1002']);
        const entries = await r.as(again.svid!, agentKey.privateKey).fetchEntries();
        assert.deepEqual(entries.map((e) => e.id).sort(), [wl.id, byAgentId.id].sort());
      } finally {
        await r.close();
      }
    });
  });

  it('the RSA EK (the default) attests too, under the hash of its own key', async (t) => {
    await withTpm(t, async (sim) => {
      const r = await startServer({ settings: { tpm: true } });
      try {
        const res = await attest(r, new TpmAttestorClient({ tcti: sim.tcti }));
        assert.equal(res.svid?.spiffe_id, `spiffe://${TD}/evident/agent/tpm/${await ekHash(sim, 'rsa')}`);
        assert.notEqual(await ekHash(sim, 'rsa'), await ekHash(sim, 'ecc'));
      } finally {
        await r.close();
      }
    });
  });

  it('a replayed answer, a forged one, and one after the deadline are refused; the TPM’s own answer to the next challenge is accepted', async (t) => {
    await withTpm(t, async (sim) => {
      const clock = new ManualClock(Date.now());
      const r = await startServer({ settings: { tpm: true }, clock });
      try {
        const client = new TpmAttestorClient({ tcti: sim.tcti, ek: 'ecc' });
        let recorded: Buffer | undefined;
        await attest(r, client, async (c, cl) => (recorded = await cl.answer(c)));
        assert.equal(recorded?.length, 32);

        let fresh: Buffer | undefined;
        await assert.rejects(
          attest(r, client, async (c, cl) => {
            fresh = await cl.answer(c); // what the TPM opens now is another secret
            return recorded!;
          }),
          (e: Error) => permissionDenied(e) && /not the credential's secret/.test(e.message),
        );
        assert.ok(fresh !== undefined && !fresh.equals(recorded!), 'each challenge seals a new secret');

        await assert.rejects(
          attest(r, client, async () => randomBytes(32)),
          /not the credential's secret/,
        );
        await assert.rejects(
          attest(r, client, async () => Buffer.alloc(0)),
          /not the credential's secret/,
        );
        await assert.rejects(
          attest(r, client, async (c, cl) => {
            const answer = await cl.answer(c);
            clock.advance(31_000);
            return answer;
          }),
          /after the challenge's deadline/,
        );
        const ok = await attest(r, client);
        assert.match(ok.svid!.spiffe_id, /\/evident\/agent\/tpm\/[0-9a-f]{64}$/);
        assert.equal((await agentsOf(r)).length, 1, 'only the honest attestations made an agent');
      } finally {
        await r.close();
      }
    });
  });

  it('a challenge takes one answer: the right secret a second time is refused', async (t) => {
    await withTpm(t, async (sim) => {
      const clock = new ManualClock(Date.now());
      const tpm = await sim.open();
      const ek = await createEk(tpm, 'ecc');
      const ak = await createAk(tpm, ek.handle);
      const { challenge, credential } = ActivationChallenge.issue(ek.public, ak.name, clock);
      const secret = await activateCredential(tpm, ak.handle, ek.handle, credential);
      challenge.check(secret);
      assert.throws(() => challenge.check(secret), /already answered/);
      const late = ActivationChallenge.issue(ek.public, ak.name, clock, 1000);
      const lateSecret = await activateCredential(tpm, ak.handle, ek.handle, late.credential);
      clock.advance(1001);
      assert.throws(() => late.challenge.check(lateSecret), /after the challenge's deadline/);
      await tpm.flushContext(ak.handle);
      await tpm.flushContext(ek.handle);
    });
  });

  it('an AK that is not a restricted signing key fixed to the TPM is refused, naming what it lacks', async (t) => {
    await withTpm(t, async (sim) => {
      const r = await startServer({ settings: { tpm: true } });
      try {
        const unrestricted = { ...akTemplate('ecc'), objectAttributes: AK_ATTRIBUTES & ~TPMA_OBJECT.restricted };
        await assert.rejects(
          attest(r, new TpmAttestorClient({ tcti: sim.tcti, ek: 'ecc', akTemplate: unrestricted })),
          /the AK is not an attestation key .*it lacks restricted/,
        );
        const movable = {
          ...akTemplate('ecc'),
          objectAttributes: AK_ATTRIBUTES & ~(TPMA_OBJECT.fixedtpm | TPMA_OBJECT.fixedparent),
        };
        await assert.rejects(
          attest(r, new TpmAttestorClient({ tcti: sim.tcti, ek: 'ecc', akTemplate: movable })),
          /it lacks fixedtpm, fixedparent/,
        );
        assert.equal((await agentsOf(r)).length, 0);
      } finally {
        await r.close();
      }
    });
  });

  it('payloads that are not a TPM’s are refused cleanly', async (t) => {
    await withTpm(t, async (sim) => {
      const r = await startServer({ settings: { tpm: true } });
      try {
        const send = (payload: Buffer) => r.anonymous().attest({ type: TPM_TYPE, payload, key: { public_key: ecKey().spki } });
        await assert.rejects(send(Buffer.from('{')), /tpm payload is malformed/);
        await assert.rejects(send(Buffer.from('{"ek_public":"AAAA"}')), /tpm payload is malformed: ak_public is missing/);
        const tpm = await sim.open();
        const ek = await createEk(tpm, 'ecc');
        const ak = await createAk(tpm, ek.handle);
        await tpm.flushContext(ak.handle);
        await tpm.flushContext(ek.handle);
        await assert.rejects(
          send(tpmPayload({ ekPublic: ek.publicArea.subarray(0, 40), akPublic: ak.publicArea })),
          /tpm payload is malformed: the EK public area: truncated/,
        );
        // the AK sent as the EK: a signing key, not an endorsement key
        await assert.rejects(
          send(tpmPayload({ ekPublic: ak.publicArea, akPublic: ak.publicArea })),
          /not an endorsement key.*lacks decrypt/,
        );
      } finally {
        await r.close();
      }
    });
  });
});

describe('TPM node attestation: allow-list', () => {
  it('only the TPMs listed attest; another machine is refused with PermissionDenied until its hash is added (read again)', async (t) => {
    await withTpm(t, async (simA) => {
      const simB = await startSwtpm();
      let r: TestServer | undefined;
      try {
        const [a, b] = [await ekHash(simA), await ekHash(simB)];
        assert.notEqual(a, b, 'two simulators, two EKs');
        const list = join(simA.work, 'allowed');
        await writeFile(list, `# machines allowed to attest\n${a.toUpperCase()}  # build-1\n\n`);
        r = await startServer({ settings: { tpm_allowed_hashes: list } });
        const okA = await attest(r, new TpmAttestorClient({ tcti: simA.tcti, ek: 'ecc' }));
        assert.equal(okA.svid?.spiffe_id, `spiffe://${TD}/evident/agent/tpm/${a}`);
        const refused = await attest(r, new TpmAttestorClient({ tcti: simB.tcti, ek: 'ecc' })).then(
          () => undefined,
          (e: Error) => e,
        );
        assert.ok(refused, 'machine B attested without being in the allow-list');
        assert.ok(permissionDenied(refused), `PermissionDenied: ${refused.message}`);
        assert.match(
          refused.message,
          new RegExp(`the TPM whose EK hashes to ${b} is not in this server's allow-list \\(--tpm-allowed-hashes\\)`),
        );

        await appendFile(list, `${b}\n`);
        const okB = await attest(r, new TpmAttestorClient({ tcti: simB.tcti, ek: 'ecc' }));
        assert.equal(okB.svid?.spiffe_id, `spiffe://${TD}/evident/agent/tpm/${b}`);

        await writeFile(list, 'not-a-hash\n');
        await assert.rejects(
          attest(r, new TpmAttestorClient({ tcti: simA.tcti, ek: 'ecc' })),
          /allowed: TPM allow-list line 1: 'not-a-hash' is not the SHA-256 of an EK .*every TPM attestation is refused until it is fixed/,
        );
      } finally {
        await r?.close();
        await simB.stop();
      }
    });
  });
});

describe('TPM node attestation: EK certificates', () => {
  it("an EK certificate chaining to --tpm-ek-ca-bundle gives the issuer's CN and the serial; other CAs, no certificate, or another key's are refused", async (t) => {
    if (skipUnlessSwtpm(t, { setup: true })) return;
    const factory = await mkdtemp(join(tmpdir(), 'evident-tpm-factory-'));
    try {
      const { stateDir, caDir } = await manufactureState(factory);
      await withTpm(
        t,
        async (sim) => {
          const issuer = join(caDir, 'issuercert.pem');
          const tpm = await sim.open();
          const ek = await createEk(tpm, 'rsa');
          await tpm.flushContext(ek.handle);
          const hash = publicKeySha256(ek.public);

          const r = await startServer({ settings: { tpm_ek_ca_bundle: issuer } });
          try {
            const res = await attest(r, new TpmAttestorClient({ tcti: sim.tcti, ek: 'rsa' }));
            assert.equal(res.svid?.spiffe_id, `spiffe://${TD}/evident/agent/tpm/${hash}`);
            const cert = new X509Certificate(await readEkCertificateOf(sim));
            assert.deepEqual(cert.publicKey.export({ type: 'spki', format: 'der' }), publicKeySpki(ek.public));
            const [agent] = await agentsOf(r);
            assert.deepEqual(agent!.selectors.sort(), [
              'tpm:ek_cert_issuer_cn:swtpm-localca',
              `tpm:ek_cert_serial:${cert.serialNumber.toLowerCase()}`,
              `tpm:pub_hash:${hash}`,
            ]);
            // swtpm_setup stores no certificate for the P-256 EK: with a bundle, an EK without one is refused
            await assert.rejects(
              attest(r, new TpmAttestorClient({ tcti: sim.tcti, ek: 'ecc' })),
              /the TPM has no EK certificate in NV, and this server accepts only EKs certified by its TPM manufacturers' CAs \(--tpm-ek-ca-bundle\)/,
            );
          } finally {
            await r.close();
          }

          const otherCa = join(sim.work, 'other-ca.pem');
          await writeFile(otherCa, (await makeRoot('tpm-vendor', { now: new Date() })).pem);
          const other = await startServer({ settings: { tpm_ek_ca_bundle: otherCa } });
          try {
            await assert.rejects(
              attest(other, new TpmAttestorClient({ tcti: sim.tcti, ek: 'rsa' })),
              /the EK certificate does not chain to this server's TPM manufacturers' CAs \(--tpm-ek-ca-bundle\): certificate signed by unknown authority/,
            );
          } finally {
            await other.close();
          }

          // without a bundle the certificate is not trusted: the hash alone, no issuer selectors
          const plain = await startServer({ settings: { tpm: true } });
          try {
            await attest(plain, new TpmAttestorClient({ tcti: sim.tcti, ek: 'rsa' }));
            assert.deepEqual((await agentsOf(plain))[0]!.selectors, [`tpm:pub_hash:${hash}`]);
            // this TPM's certificate sent with another TPM's EK
            const another = await startSwtpm();
            try {
              const client = new TpmAttestorClient({ tcti: another.tcti, ek: 'rsa' });
              const certDer = await readEkCertificateOf(sim);
              await assert.rejects(
                (async () => {
                  try {
                    const p = JSON.parse((await client.payload()).toString()) as Record<string, string>;
                    p.ek_certificate = certDer.toString('base64');
                    return await plain
                      .anonymous()
                      .attest({ type: TPM_TYPE, payload: Buffer.from(JSON.stringify(p)), key: { public_key: ecKey().spki } }, (c) =>
                        client.answer(c),
                      );
                  } finally {
                    await client.close();
                  }
                })(),
                /the EK certificate certifies another key than the EK sent/,
              );
            } finally {
              await another.stop();
            }
          } finally {
            await plain.close();
          }
        },
        { setup: true, stateDir },
      );
    } finally {
      await rm(factory, { recursive: true, force: true });
    }
  });
});

async function readEkCertificateOf(sim: Swtpm): Promise<Buffer> {
  const der = await readEkCertificate(await sim.open(), 'rsa');
  assert.ok(der !== undefined, 'swtpm_setup stored an RSA EK certificate');
  return der;
}
