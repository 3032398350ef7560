/**
 * The attestation key: a restricted signing key created in the TPM under the EK (TPM2_Create, then
 * TPM2_Load), with the attributes that let a verifier trust that it lives in this TPM and only signs what
 * the TPM itself produced: fixedTPM, fixedParent, sensitiveDataOrigin, userWithAuth, restricted, sign
 * (0x00050072, tpm2_createak's). ECC P-256 with ECDSA-SHA256 (the default, under either EK) or RSA 2048
 * with RSASSA-SHA256, as tpm2_createak makes them. The EK authorizes both commands through its policy
 * session.
 *
 * ECC is the default because TPM2_Create must generate the key: an RSA 2048 key takes 0.2–1 s on swtpm
 * (a random search for primes) and seconds on hardware TPMs, a P-256 key milliseconds. Every PC-client
 * TPM implements both.
 *
 * Its name is what MakeCredential binds a credential to: only a TPM that has both the EK and a key of
 * exactly this name loaded can activate it.
 */
import { TPM_ALG, TPM_ECC, TPMA_OBJECT } from './constants.js';
import { create, load, type CreatedObject, type LoadedObject } from './objects.js';
import { withEndorsementPolicy } from './sessions.js';
import { NULL_SCHEME, NULL_SYM, type TpmPublic } from './structures.js';
import type { Tpm } from './tpm.js';

export const AK_ATTRIBUTES =
  TPMA_OBJECT.fixedtpm |
  TPMA_OBJECT.fixedparent |
  TPMA_OBJECT.sensitivedataorigin |
  TPMA_OBJECT.userwithauth |
  TPMA_OBJECT.restricted |
  TPMA_OBJECT.sign;

export function akTemplate(kind: 'rsa' | 'ecc' = 'ecc'): TpmPublic {
  const base = { nameAlg: TPM_ALG.SHA256, objectAttributes: AK_ATTRIBUTES, authPolicy: Buffer.alloc(0), symmetric: NULL_SYM };
  if (kind === 'rsa')
    return {
      type: TPM_ALG.RSA,
      ...base,
      scheme: { scheme: TPM_ALG.RSASSA, hashAlg: TPM_ALG.SHA256 },
      keyBits: 2048,
      exponent: 0,
      modulus: Buffer.alloc(0),
    };
  return {
    type: TPM_ALG.ECC,
    ...base,
    scheme: { scheme: TPM_ALG.ECDSA, hashAlg: TPM_ALG.SHA256 },
    curveId: TPM_ECC.NIST_P256,
    kdf: NULL_SCHEME,
    x: Buffer.alloc(0),
    y: Buffer.alloc(0),
  };
}

/** A loaded AK and the blob it was created as (which can be loaded again under the same EK). */
export type Ak = LoadedObject & Pick<CreatedObject, 'private'>;

/** Creates an AK from `template` (ECC P-256 by default) under the loaded EK `ekHandle`, and loads it. */
export async function createAk(tpm: Tpm, ekHandle: number, template: TpmPublic = akTemplate()): Promise<Ak> {
  const created = await withEndorsementPolicy(tpm, (auth) => create(tpm, ekHandle, auth, template));
  const loaded = await withEndorsementPolicy(tpm, (auth) => load(tpm, ekHandle, auth, created));
  return { ...loaded, private: created.private };
}
