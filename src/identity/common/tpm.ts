import { badInput } from '../../errors.js';
import type { Credential } from '../../tpm/make-credential.js';
import { TpmReader, TpmWriter } from '../../tpm/marshal.js';

/**
 * TPM 2.0 node attestation as both sides speak it (docs/identity.md, "Node attestation with a TPM"):
 *
 * 1. the agent sends its endorsement key's public area, the EK certificate when the TPM has one in NV,
 *    and the public area of an attestation key (AK) it created under the EK;
 * 2. the server answers with a credential (TPM2_MakeCredential, done in software) that only the TPM
 *    holding that EK can open, and only for a loaded key of the AK's name: TPM2B_ID_OBJECT then
 *    TPM2B_ENCRYPTED_SECRET, as the TPM takes them;
 * 3. the agent's TPM opens it (TPM2_ActivateCredential) and the agent sends back the secret inside.
 *
 * Both sides use these functions, so the payload and the challenge cannot drift apart.
 */

/** The attestor type, as the agent sends it and the server registers it. */
export const TPM_TYPE = 'tpm';

/** What the agent sends first; the public areas are marshalled TPMT_PUBLIC as the TPM returned them. */
export interface TpmPayload {
  /** The EK's TPMT_PUBLIC. */
  readonly ekPublic: Buffer;
  /** The EK certificate (DER) from the TPM's NV, when the manufacturer stored one. */
  readonly ekCertificate?: Buffer;
  /** The AK's TPMT_PUBLIC. */
  readonly akPublic: Buffer;
}

/** Bounds the server checks before parsing anything: a public area is under 1 KiB, an EK certificate a few. */
const MAX_PUBLIC_BYTES = 1024;
const MAX_CERTIFICATE_BYTES = 16 * 1024;

interface WirePayload {
  ek_public?: unknown;
  ek_certificate?: unknown;
  ak_public?: unknown;
}

/** The agent side: the AttestParams payload, JSON `{"ek_public", "ek_certificate"?, "ak_public"}`, each base64. */
export function tpmPayload(p: TpmPayload): Buffer {
  const wire = {
    ek_public: p.ekPublic.toString('base64'),
    ...(p.ekCertificate !== undefined ? { ek_certificate: p.ekCertificate.toString('base64') } : {}),
    ak_public: p.akPublic.toString('base64'),
  };
  return Buffer.from(JSON.stringify(wire));
}

/**
 * The server side: the payload's fields, still unparsed as TPM structures.
 *
 * @throws EvidentError BAD_INPUT naming the field that is missing, not base64 or too large
 */
export function parseTpmPayload(payload: Uint8Array): TpmPayload {
  let wire: WirePayload;
  try {
    wire = JSON.parse(Buffer.from(payload).toString('utf8')) as WirePayload;
  } catch (e) {
    throw badInput((e as Error).message);
  }
  if (typeof wire !== 'object' || wire === null || Array.isArray(wire)) throw badInput('not a JSON object');
  const field = (name: keyof WirePayload, max: number): Buffer | undefined => {
    const v = wire[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) throw badInput(`${name} is not a base64 string`);
    const bytes = Buffer.from(v, 'base64');
    if (bytes.length === 0) throw badInput(`${name} is empty`);
    if (bytes.length > max) throw badInput(`${name} has ${bytes.length} bytes, more than the ${max} it may have`);
    return bytes;
  };
  const ekPublic = field('ek_public', MAX_PUBLIC_BYTES);
  const akPublic = field('ak_public', MAX_PUBLIC_BYTES);
  const ekCertificate = field('ek_certificate', MAX_CERTIFICATE_BYTES);
  if (ekPublic === undefined) throw badInput('ek_public is missing');
  if (akPublic === undefined) throw badInput('ak_public is missing');
  return { ekPublic, akPublic, ...(ekCertificate !== undefined ? { ekCertificate } : {}) };
}

/** The server side: the challenge carrying a credential, TPM2B_ID_OBJECT ‖ TPM2B_ENCRYPTED_SECRET. */
export function tpmChallenge(c: Credential): Buffer {
  return new TpmWriter().tpm2b(c.idObject, 'TPM2B_ID_OBJECT').tpm2b(c.encryptedSecret, 'TPM2B_ENCRYPTED_SECRET').toBuffer();
}

/**
 * The agent side: the credential a challenge carries, for TPM2_ActivateCredential.
 *
 * @throws EvidentError BAD_INPUT when it is not the two sized buffers and nothing else
 */
export function parseTpmChallenge(challenge: Uint8Array): Credential {
  const r = new TpmReader(Buffer.from(challenge), "the server's TPM challenge");
  const idObject = r.tpm2b('TPM2B_ID_OBJECT');
  const encryptedSecret = r.tpm2b('TPM2B_ENCRYPTED_SECRET');
  r.end();
  return { idObject, encryptedSecret };
}
