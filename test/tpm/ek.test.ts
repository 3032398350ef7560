/**
 * The endorsement key against a real TPM (swtpm) and an independent implementation (tpm2-tools): the key
 * evident derives from the default templates is the one tpm2_createek derives, its SPKI and SHA-256 (the
 * machine's identity) are the same bytes, the EK policy constant is what the TPM computes, and the EK
 * certificate is read from NV.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, randomBytes, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createEk,
  EK_CERT_INDEX,
  EK_POLICY,
  endorsementPolicy,
  publicKeySha256,
  publicKeySpki,
  readEkCertificate,
  readPublic,
  TPM_RH,
  type EkKind,
} from '../../src/tpm/index.js';
import { policyGetDigest, policySecret, startAuthSession } from '../../src/tpm/sessions.js';
import { TPM_PT_NV_BUFFER_MAX, TPM_SE } from '../../src/tpm/constants.js';
import { manufactureState, skipUnlessSwtpm, startSwtpm } from '../helpers/swtpm.js';

for (const kind of ['rsa', 'ecc'] as const satisfies readonly EkKind[]) {
  test(`the ${kind.toUpperCase()} EK evident derives is the one tpm2_createek derives from the same TPM`, async (t) => {
    if (skipUnlessSwtpm(t, { tools: true })) return;
    const tpm2 = await startSwtpm();
    try {
      await tpm2.tool('tpm2_createek', ['-c', 'ek.ctx', '-G', kind, '-u', 'ek.pem', '-f', 'pem']);
      // tpm2-tools leaves the objects it loaded in the TPM; swtpm has no resource manager to flush them
      await tpm2.tool('tpm2_flushcontext', ['-t']);
      const theirs = createPublicKey(await readFile(join(tpm2.work, 'ek.pem'))).export({ type: 'spki', format: 'der' });

      const tpm = await tpm2.open();
      await tpm.startup();
      const ek = await createEk(tpm, kind);
      assert.equal(publicKeySpki(ek.public).toString('hex'), theirs.toString('hex'));
      assert.equal(publicKeySha256(ek.public), createHash('sha256').update(theirs).digest('hex'));

      // the name evident computes is the one tpm2_readpublic reads for the same handle, and the PEM it writes is the same key
      const out = await tpm2.tool('tpm2_readpublic', ['-c', `0x${ek.handle.toString(16)}`, '-f', 'pem', '-o', 'ours.pem']);
      assert.equal(/^name: ([0-9a-f]+)$/m.exec(out)?.[1], ek.name.toString('hex'));
      assert.match(out, /^ {2}raw: 0x300b2$/m);
      const ours = createPublicKey(await readFile(join(tpm2.work, 'ours.pem'))).export({ type: 'spki', format: 'der' });
      assert.deepEqual(ours, theirs);

      // deriving it again gives the same key: the hash is the machine's, not the session's
      const again = await createEk(tpm, kind);
      assert.deepEqual(again.publicArea, ek.publicArea);
      assert.deepEqual((await readPublic(tpm, ek.handle)).publicArea, ek.publicArea);
      await tpm.flushContext(again.handle);
      await tpm.flushContext(ek.handle);
    } finally {
      await tpm2.stop();
    }
  });
}

test('the EK policy is PolicySecret(TPM_RH_ENDORSEMENT): computed here, stated by the profile, and computed by the TPM', async (t) => {
  assert.deepEqual(endorsementPolicy(), EK_POLICY);
  if (skipUnlessSwtpm(t)) return;
  const sim = await startSwtpm();
  try {
    const tpm = await sim.open();
    const trial = await startAuthSession(tpm, TPM_SE.TRIAL);
    await policySecret(tpm, trial, TPM_RH.ENDORSEMENT);
    assert.equal((await policyGetDigest(tpm, trial)).toString('hex'), EK_POLICY.toString('hex'));
    await tpm.flushContext(trial);
  } finally {
    await sim.stop();
  }
});

test('the EK certificate a manufacturer stored is read from NV, and certifies the EK evident derives', async (t) => {
  if (skipUnlessSwtpm(t, { setup: true })) return;
  const dir = await mkdtemp(join(tmpdir(), 'evident-ekcert-'));
  try {
    const { stateDir } = await manufactureState(dir);
    const sim = await startSwtpm({ stateDir });
    try {
      const tpm = await sim.open();
      const der = await readEkCertificate(tpm, 'rsa');
      assert.ok(der !== undefined, 'swtpm_setup --create-ek-cert stored an RSA EK certificate');
      const cert = new X509Certificate(der);
      const ek = await createEk(tpm, 'rsa');
      assert.deepEqual(cert.publicKey.export({ type: 'spki', format: 'der' }), publicKeySpki(ek.public));
      // swtpm_setup makes its ECC EK on P-384, in the high range: the P-256 index is not there
      assert.equal(await readEkCertificate(tpm, 'ecc'), undefined);
      await tpm.flushContext(ek.handle);
    } finally {
      await sim.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('an owner-readable EK certificate index larger than one NV read is read in pieces and trimmed to its DER', async (t) => {
  if (skipUnlessSwtpm(t, { tools: true })) return;
  const sim = await startSwtpm();
  try {
    const tpm = await sim.open();
    const chunk = await tpm.getProperty(TPM_PT_NV_BUFFER_MAX);
    assert.ok(chunk !== undefined && chunk <= 1024, `NV buffer max ${chunk}`);
    // a DER SEQUENCE of 1400 content bytes, then zero padding, as some manufacturers store it
    const der = Buffer.concat([Buffer.from([0x30, 0x82, 0x05, 0x78]), randomBytes(1400)]);
    const stored = Buffer.concat([der, Buffer.alloc(100)]);
    await writeFile(join(sim.work, 'cert.bin'), stored);
    const index = `0x${EK_CERT_INDEX.ecc.toString(16)}`;
    await sim.tool('tpm2_nvdefine', [index, '-C', 'o', '-s', `${stored.length}`, '-a', 'ownerread|ownerwrite']);
    assert.equal(await readEkCertificate(tpm, 'ecc'), undefined, 'an index not yet written has no certificate');
    await sim.tool('tpm2_nvwrite', [index, '-C', 'o', '-i', 'cert.bin']);
    const read = await readEkCertificate(tpm, 'ecc');
    assert.equal(read?.toString('hex'), der.toString('hex'));
    assert.equal(await readEkCertificate(tpm, 'rsa'), undefined);
  } finally {
    await sim.stop();
  }
});
