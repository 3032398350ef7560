/**
 * Credential activation end to end: MakeCredential in TypeScript, ActivateCredential in a real TPM
 * (swtpm), for RSA and ECC EKs; the TPM's refusals (another AK's name, a tampered HMAC or ciphertext,
 * another EK); and both directions against tpm2-tools, an independent implementation: its
 * tpm2_makecredential's output activated by evident, evident's activated by tpm2_activatecredential.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  activateCredential,
  akTemplate,
  createAk,
  createEk,
  isTpmError,
  makeCredential,
  publicKeyObject,
  TPM_RC,
  TpmError,
  type EkKind,
  type RsaPublic,
} from '../../src/tpm/index.js';
import { EvidentError } from '../../src/errors.js';
import {
  parseTpm2ToolsCredentialFile,
  parseTpm2ToolsPublic,
  skipUnlessSwtpm,
  startSwtpm,
  tpm2Tool,
  tpm2ToolsCredentialFile,
} from '../helpers/swtpm.js';

const KINDS = ['rsa', 'ecc'] as const satisfies readonly EkKind[];

for (const kind of KINDS) {
  test(`${kind.toUpperCase()} EK: a credential made in TypeScript is activated by the TPM (the full flow timed)`, async (t) => {
    if (skipUnlessSwtpm(t)) return;
    const sim = await startSwtpm();
    try {
      const tpm = await sim.open();
      await tpm.startup();
      const secret = randomBytes(32);
      const start = performance.now();
      const ek = await createEk(tpm, kind);
      const ak = await createAk(tpm, ek.handle);
      const credential = makeCredential(ek.public, ak.name, secret);
      const activated = await activateCredential(tpm, ak.handle, ek.handle, credential);
      const ms = performance.now() - start;
      assert.equal(activated.toString('hex'), secret.toString('hex'));
      t.diagnostic(`${kind} EK, ECC AK: createprimary EK + create/load AK + makecredential + activatecredential: ${ms.toFixed(0)} ms`);
      // a one-byte credential too (the TPM2B_DIGEST's size is inside the encryption)
      const one = Buffer.of(0x42);
      assert.deepEqual(await activateCredential(tpm, ak.handle, ek.handle, makeCredential(ek.public, ak.name, one)), one);
      // and an RSA AK under the same EK
      const rsaAk = await createAk(tpm, ek.handle, akTemplate('rsa'));
      assert.deepEqual(await activateCredential(tpm, rsaAk.handle, ek.handle, makeCredential(ek.public, rsaAk.name, secret)), secret);
      for (const h of [rsaAk.handle, ak.handle, ek.handle]) await tpm.flushContext(h);
    } finally {
      await sim.stop();
    }
  });

  test(`${kind.toUpperCase()} EK: the TPM refuses a credential for another AK, a tampered one, or one for another EK`, async (t) => {
    if (skipUnlessSwtpm(t)) return;
    const sim = await startSwtpm();
    try {
      const tpm = await sim.open();
      const ek = await createEk(tpm, kind);
      const ak = await createAk(tpm, ek.handle, akTemplate(kind));
      const secret = randomBytes(32);
      const integrityError = (e: unknown): boolean =>
        isTpmError(e, TPM_RC.INTEGRITY) &&
        e.message === 'TPM2_ActivateCredential: TPM_RC_INTEGRITY (parameter 1): integrity check failed [0x1df]';

      const otherName = Buffer.from(ak.name);
      otherName[5]! ^= 1;
      await assert.rejects(activateCredential(tpm, ak.handle, ek.handle, makeCredential(ek.public, otherName, secret)), integrityError);

      const good = makeCredential(ek.public, ak.name, secret);
      const hmacTampered = Buffer.from(good.idObject);
      hmacTampered[2]! ^= 0x80;
      await assert.rejects(activateCredential(tpm, ak.handle, ek.handle, { ...good, idObject: hmacTampered }), integrityError);
      const cipherTampered = Buffer.from(good.idObject);
      cipherTampered[cipherTampered.length - 1]! ^= 1;
      await assert.rejects(activateCredential(tpm, ak.handle, ek.handle, { ...good, idObject: cipherTampered }), integrityError);

      // made for another EK of the same kind: the seed does not decrypt to the same value. ECC: another seed,
      // so the HMAC fails; RSA: OAEP fails, TPM_RC_VALUE on a TPM, TPM_RC_FAILURE from libtpms (swtpm), which
      // is not in failure mode afterwards (the last activation below)
      const otherEk = otherEkPublic(ek.public, kind);
      const refusals: number[] = kind === 'rsa' ? [TPM_RC.VALUE, TPM_RC.FAILURE] : [TPM_RC.INTEGRITY];
      await assert.rejects(activateCredential(tpm, ak.handle, ek.handle, makeCredential(otherEk, ak.name, secret)), (e: unknown) => {
        assert.ok(e instanceof TpmError, String(e));
        assert.ok(refusals.includes(e.rc.base), e.message);
        return true;
      });

      // every refusal flushed its policy session: the good credential still activates (swtpm has 3 session slots)
      assert.deepEqual(await activateCredential(tpm, ak.handle, ek.handle, good), secret);
    } finally {
      await sim.stop();
    }
  });

  test(`${kind.toUpperCase()} EK: tpm2_makecredential's credential is activated by evident`, async (t) => {
    if (skipUnlessSwtpm(t, { tools: true })) return;
    const sim = await startSwtpm();
    try {
      const tpm = await sim.open();
      const ek = await createEk(tpm, kind);
      const ak = await createAk(tpm, ek.handle, akTemplate(kind));
      const secret = randomBytes(32);
      await writeFile(join(sim.work, 'ek.pem'), publicKeyObject(ek.public).export({ type: 'spki', format: 'pem' }));
      await writeFile(join(sim.work, 'secret.bin'), secret);
      // without a TPM: tpm2-tools' own software MakeCredential
      const args = ['-T', 'none', '-u', 'ek.pem', '-G', kind, '-s', 'secret.bin', '-n', ak.name.toString('hex'), '-o', 'cred.out'];
      await tpm2Tool('tpm2_makecredential', args, sim.work);
      const credential = parseTpm2ToolsCredentialFile(await readFile(join(sim.work, 'cred.out')));
      assert.deepEqual(await activateCredential(tpm, ak.handle, ek.handle, credential), secret);
    } finally {
      await sim.stop();
    }
  });

  test(`${kind.toUpperCase()} EK: evident's credential is activated by tpm2_activatecredential (EK and AK made by tpm2-tools)`, async (t) => {
    if (skipUnlessSwtpm(t, { tools: true })) return;
    const sim = await startSwtpm();
    try {
      const flush = (): Promise<string> => sim.tool('tpm2_flushcontext', ['-t']);
      await sim.tool('tpm2_createek', ['-c', 'ek.ctx', '-G', kind, '-u', 'ek.pub']);
      await flush();
      await sim.tool('tpm2_createak', [
        '-C',
        'ek.ctx',
        '-c',
        'ak.ctx',
        '-G',
        kind,
        '-g',
        'sha256',
        '-s',
        kind === 'rsa' ? 'rsassa' : 'ecdsa',
        '-n',
        'ak.name',
      ]);
      await flush();
      const ekPublic = parseTpm2ToolsPublic(await readFile(join(sim.work, 'ek.pub')));
      const akName = await readFile(join(sim.work, 'ak.name'));
      const secret = randomBytes(32);
      await writeFile(join(sim.work, 'cred.out'), tpm2ToolsCredentialFile(makeCredential(ekPublic, akName, secret)));
      await sim.tool('tpm2_startauthsession', ['--policy-session', '-S', 'session.ctx']);
      await sim.tool('tpm2_policysecret', ['-S', 'session.ctx', '-c', 'e']);
      await sim.tool('tpm2_activatecredential', [
        '-c',
        'ak.ctx',
        '-C',
        'ek.ctx',
        '-i',
        'cred.out',
        '-o',
        'activated.bin',
        '-P',
        'session:session.ctx',
      ]);
      assert.equal((await readFile(join(sim.work, 'activated.bin'))).toString('hex'), secret.toString('hex'));
    } finally {
      await sim.stop();
    }
  });
}

test('MakeCredential refuses what it cannot protect, in one line', () => {
  const ek = { ...akTemplate('rsa'), modulus: Buffer.alloc(256, 1) } as RsaPublic;
  const name = Buffer.concat([Buffer.from('000b', 'hex'), Buffer.alloc(32)]);
  const cases: [() => unknown, string][] = [
    [() => makeCredential(ek, name, Buffer.alloc(32)), 'MakeCredential: the EK is not a restricted decryption key'],
    [
      () => makeCredential({ ...ek, objectAttributes: 0x300b2 }, name, Buffer.alloc(32)),
      'MakeCredential: the EK does not protect with AES-CFB',
    ],
  ];
  const rsaEk = { ...ek, objectAttributes: 0x300b2, symmetric: { algorithm: 0x0006, keyBits: 128, mode: 0x0043 } };
  cases.push(
    [
      () => makeCredential(rsaEk, name.subarray(0, 20), Buffer.alloc(32)),
      "MakeCredential: 20 bytes is not an object's name (nameAlg and its digest)",
    ],
    [() => makeCredential(rsaEk, name, Buffer.alloc(33)), 'MakeCredential: the credential has 33 bytes, it must have 1 to 32'],
    [() => makeCredential(rsaEk, name, Buffer.alloc(0)), 'MakeCredential: the credential has 0 bytes, it must have 1 to 32'],
  );
  for (const [run, message] of cases) assert.throws(run, (e: EvidentError) => e.code === 'BAD_INPUT' && e.message === message);
});

/** The EK's public area with another key of the same kind in it. */
function otherEkPublic<P extends { type: number }>(ek: P, kind: EkKind): P {
  if (kind === 'rsa') {
    const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
    return { ...ek, modulus: Buffer.from(jwk.n!, 'base64url') };
  }
  const jwk = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ format: 'jwk' });
  return { ...ek, x: Buffer.from(jwk.x!, 'base64url'), y: Buffer.from(jwk.y!, 'base64url') };
}
