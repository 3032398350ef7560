/**
 * The attestation key has the attributes asked for, as the TPM reports them (TPM2_ReadPublic) and as
 * tpm2-tools reads them (tpm2_readpublic), and the TPM refuses an AK template that breaks the rules.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AK_ATTRIBUTES, akTemplate, createAk, createEk, objectAttributeNames, readPublic, TPM_ALG, TpmError } from '../../src/tpm/index.js';
import { skipUnlessSwtpm, startSwtpm } from '../helpers/swtpm.js';

test('the AK attributes are fixedTPM, fixedParent, sensitiveDataOrigin, userWithAuth, restricted, sign', () => {
  assert.equal(AK_ATTRIBUTES, 0x00050072);
  assert.deepEqual(objectAttributeNames(AK_ATTRIBUTES), [
    'fixedtpm',
    'fixedparent',
    'sensitivedataorigin',
    'userwithauth',
    'restricted',
    'sign',
  ]);
});

for (const kind of ['ecc', 'rsa'] as const) {
  test(`an ${kind.toUpperCase()} AK under the EK has the attributes asked for, read back by the TPM and by tpm2_readpublic`, async (t) => {
    if (skipUnlessSwtpm(t)) return;
    const sim = await startSwtpm();
    try {
      const tpm = await sim.open();
      const ek = await createEk(tpm, 'rsa');
      const ak = await createAk(tpm, ek.handle, akTemplate(kind));
      const back = await readPublic(tpm, ak.handle);
      assert.deepEqual(back.publicArea, ak.publicArea);
      assert.deepEqual(back.name, ak.name);
      assert.equal(back.public.objectAttributes, AK_ATTRIBUTES);
      assert.equal(back.public.type, kind === 'rsa' ? TPM_ALG.RSA : TPM_ALG.ECC);
      assert.deepEqual(back.public.scheme, { scheme: kind === 'rsa' ? TPM_ALG.RSASSA : TPM_ALG.ECDSA, hashAlg: TPM_ALG.SHA256 });
      assert.equal(back.public.nameAlg, TPM_ALG.SHA256);

      if (skipUnlessSwtpm(t, { tools: true })) return;
      const out = await sim.tool('tpm2_readpublic', ['-c', `0x${ak.handle.toString(16)}`]);
      assert.equal(/^name: ([0-9a-f]+)$/m.exec(out)?.[1], ak.name.toString('hex'));
      assert.match(
        out,
        /^attributes:\n {2}value: fixedtpm\|fixedparent\|sensitivedataorigin\|userwithauth\|restricted\|sign\n {2}raw: 0x50072$/m,
      );
      assert.match(out, new RegExp(`^type:\\n {2}value: ${kind}\\n`, 'm'));
    } finally {
      await sim.stop();
    }
  });
}

test('the TPM refuses an AK template it must not create: a restricted signing key without a scheme', async (t) => {
  if (skipUnlessSwtpm(t)) return;
  const sim = await startSwtpm();
  try {
    const tpm = await sim.open();
    const ek = await createEk(tpm, 'ecc');
    const bad = { ...akTemplate('ecc'), scheme: { scheme: TPM_ALG.NULL, hashAlg: TPM_ALG.NULL } };
    await assert.rejects(createAk(tpm, ek.handle, bad), (e: unknown) => {
      assert.ok(e instanceof TpmError, String(e));
      assert.match(e.message, /^TPM2_Create: TPM_RC_\w+ \(parameter 2\): .+ \[0x[0-9a-f]+\]$/);
      return true;
    });
    // the failed Create flushed its policy session: the good template still works
    await createAk(tpm, ek.handle);
  } finally {
    await sim.stop();
  }
});
