/**
 * The endorsement key as the TCG EK Credential Profile for TPM Family 2.0 defines it: the primary key the
 * endorsement hierarchy derives from the default EK templates of its Annex B, L-1 (RSA 2048) and L-2 (ECC
 * NIST P-256). The same template on the same TPM gives the same key, which is what makes the key's hash an
 * identity of the machine; it is also what tpm2_createek creates. Its certificate, when the manufacturer
 * wrote one, is at the profile's EK certificate NV index: 0x01C00002 (RSA 2048), 0x01C0000A (ECC P-256).
 * (The profile's optional per-TPM nonce and template indices, 0x01C00003/4 and 0x01C0000B/C, are not
 * read: the templates here are the defaults.)
 *
 * The EK is a restricted decryption key whose only authorization is its policy: PolicySecret
 * (TPM_RH_ENDORSEMENT), the endorsement hierarchy's password (empty on nearly every machine).
 */
import { TPM_ALG, TPM_ECC, TPM_RH, TPMA_OBJECT } from './constants.js';
import { passwordSession } from './command.js';
import { nvReadAll } from './nv.js';
import { createPrimary, type LoadedObject } from './objects.js';
import { policySecretDigest } from './sessions.js';
import { NULL_SCHEME, type TpmPublic } from './structures.js';
import type { Tpm } from './tpm.js';

export type EkKind = 'rsa' | 'ecc';

/** PolicySecret(TPM_RH_ENDORSEMENT) with SHA-256: the profile's authPolicy for the default templates. */
export const EK_POLICY = Buffer.from('837197674484b3f81a90cc8d46a5d724fd52d76e06520b64f2a1da1b331469aa', 'hex');

/** The endorsement hierarchy's name is its handle. */
export function endorsementPolicy(): Buffer {
  const name = Buffer.alloc(4);
  name.writeUInt32BE(TPM_RH.ENDORSEMENT);
  return policySecretDigest(name);
}

/** fixedTPM, fixedParent, sensitiveDataOrigin, adminWithPolicy, restricted, decrypt: 0x000300B2. */
export const EK_ATTRIBUTES =
  TPMA_OBJECT.fixedtpm |
  TPMA_OBJECT.fixedparent |
  TPMA_OBJECT.sensitivedataorigin |
  TPMA_OBJECT.adminwithpolicy |
  TPMA_OBJECT.restricted |
  TPMA_OBJECT.decrypt;

const AES_128_CFB = { algorithm: TPM_ALG.AES, keyBits: 128, mode: TPM_ALG.CFB };

/** The default EK templates: L-1 (RSA 2048, unique = 256 zero bytes) and L-2 (ECC P-256, unique = two 32-byte zero coordinates). */
export function ekTemplate(kind: EkKind): TpmPublic {
  const base = {
    nameAlg: TPM_ALG.SHA256,
    objectAttributes: EK_ATTRIBUTES,
    authPolicy: EK_POLICY,
    symmetric: AES_128_CFB,
    scheme: NULL_SCHEME,
  };
  if (kind === 'rsa') return { type: TPM_ALG.RSA, ...base, keyBits: 2048, exponent: 0, modulus: Buffer.alloc(256) };
  return { type: TPM_ALG.ECC, ...base, curveId: TPM_ECC.NIST_P256, kdf: NULL_SCHEME, x: Buffer.alloc(32), y: Buffer.alloc(32) };
}

export const EK_CERT_INDEX: Record<EkKind, number> = { rsa: 0x01c00002, ecc: 0x01c0000a };

/**
 * Creates (derives again) the EK of `kind` as a transient object; flush it with tpm.flushContext when done.
 * `endorsementAuth` is the endorsement hierarchy's password, empty unless the machine's owner set one.
 */
export function createEk(tpm: Tpm, kind: EkKind = 'rsa', endorsementAuth?: Buffer): Promise<LoadedObject> {
  return createPrimary(tpm, TPM_RH.ENDORSEMENT, ekTemplate(kind), passwordSession(endorsementAuth));
}

/**
 * The DER EK certificate the manufacturer stored for `kind`, or undefined when there is none. Some TPMs pad
 * the index after the certificate; the bytes returned end where the outer DER SEQUENCE does.
 */
export async function readEkCertificate(tpm: Tpm, kind: EkKind = 'rsa'): Promise<Buffer | undefined> {
  const data = await nvReadAll(tpm, EK_CERT_INDEX[kind]);
  return data === undefined ? undefined : derPrefix(data);
}

/** The DER element at the start of `data` (tag, definite length, contents), or all of `data` when it is not one. */
export function derPrefix(data: Buffer): Buffer {
  if (data.length < 2 || data[0] !== 0x30) return data;
  const first = data[1]!;
  if (first < 0x80) return data.subarray(0, Math.min(data.length, 2 + first));
  const n = first & 0x7f;
  if (n === 0 || n > 4 || data.length < 2 + n) return data;
  const length = data.subarray(2, 2 + n).reduce((acc, b) => acc * 256 + b, 0);
  return data.subarray(0, Math.min(data.length, 2 + n + length));
}
