/**
 * What a public area says about its key: its name (TPM 2.0 Part 1 §16: nameAlg || H_nameAlg(TPMT_PUBLIC)),
 * the key as a node:crypto KeyObject, its DER SubjectPublicKeyInfo (what tpm2-tools writes with
 * `-f pem`/`-f der`) and that SPKI's SHA-256 in hex, the identity of a machine by its EK.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { EvidentError } from '../errors.js';
import { TPM_ALG, TPM_ECC } from './constants.js';
import { digest } from './hash.js';
import { publicBytes, type EccPublic, type TpmPublic } from './structures.js';

/** The name of an object: its nameAlg (2 bytes) then the nameAlg digest of its marshalled TPMT_PUBLIC. */
export function publicName(p: TpmPublic | Buffer, nameAlg?: number): Buffer {
  const bytes = Buffer.isBuffer(p) ? p : publicBytes(p);
  const alg = nameAlg ?? (Buffer.isBuffer(p) ? p.readUInt16BE(2) : p.nameAlg);
  const head = Buffer.alloc(2);
  head.writeUInt16BE(alg);
  return Buffer.concat([head, digest(alg, bytes)]);
}

/** The node:crypto curve name and coordinate size of the TPM curves node:crypto computes with. */
export const CURVES: Record<number, { jwk: string; node: string; size: number }> = {
  [TPM_ECC.NIST_P256]: { jwk: 'P-256', node: 'prime256v1', size: 32 },
  [TPM_ECC.NIST_P384]: { jwk: 'P-384', node: 'secp384r1', size: 48 },
  [TPM_ECC.NIST_P521]: { jwk: 'P-521', node: 'secp521r1', size: 66 },
};

export function curveOf(p: EccPublic): { jwk: string; node: string; size: number } {
  const c = CURVES[p.curveId];
  if (c === undefined) throw new EvidentError('UNSUPPORTED', `TPM ECC curve 0x${p.curveId.toString(16).padStart(4, '0')} is not supported`);
  return c;
}

/** A coordinate as the curve's fixed-size big-endian integer: TPMs may drop leading zero bytes. */
export function padCoordinate(v: Buffer, size: number): Buffer {
  let start = 0;
  while (start < v.length && v[start] === 0) start++;
  const trimmed = v.subarray(start);
  if (trimmed.length > size) throw new EvidentError('BAD_INPUT', `ECC coordinate of ${trimmed.length} bytes is too long for the curve`);
  return Buffer.concat([Buffer.alloc(size - trimmed.length), trimmed]);
}

export function publicKeyObject(p: TpmPublic): KeyObject {
  try {
    if (p.type === TPM_ALG.RSA) {
      const e = Buffer.alloc(4);
      e.writeUInt32BE(p.exponent === 0 ? 65537 : p.exponent);
      const exponent = e.subarray(e.findIndex((b) => b !== 0));
      return createPublicKey({ key: { kty: 'RSA', n: p.modulus.toString('base64url'), e: exponent.toString('base64url') }, format: 'jwk' });
    }
    const c = curveOf(p);
    const x = padCoordinate(p.x, c.size).toString('base64url');
    return createPublicKey({ key: { kty: 'EC', crv: c.jwk, x, y: padCoordinate(p.y, c.size).toString('base64url') }, format: 'jwk' });
  } catch (e) {
    if (e instanceof EvidentError) throw e;
    throw new EvidentError('BAD_INPUT', `TPM public area is not a valid key: ${(e as Error).message}`);
  }
}

/** The DER SubjectPublicKeyInfo (rsaEncryption or id-ecPublicKey with the named curve). */
export function publicKeySpki(p: TpmPublic): Buffer {
  return publicKeyObject(p).export({ type: 'spki', format: 'der' });
}

/** SHA-256 of the DER SubjectPublicKeyInfo, lowercase hex: a machine's identity when `p` is its EK. */
export function publicKeySha256(p: TpmPublic): string {
  return createHash('sha256').update(publicKeySpki(p)).digest('hex');
}
