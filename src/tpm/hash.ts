import { createHash } from 'node:crypto';
import { EvidentError } from '../errors.js';
import { TPM_ALG } from './constants.js';

/** The TPM hash algorithms node:crypto computes, by TPM_ALG_ID: node's name and the digest size. */
const HASHES: Record<number, { node: string; size: number }> = {
  [TPM_ALG.SHA1]: { node: 'sha1', size: 20 },
  [TPM_ALG.SHA256]: { node: 'sha256', size: 32 },
  [TPM_ALG.SHA384]: { node: 'sha384', size: 48 },
  [TPM_ALG.SHA512]: { node: 'sha512', size: 64 },
};

export function hashInfo(alg: number): { node: string; size: number } {
  const h = HASHES[alg];
  if (h === undefined) throw new EvidentError('UNSUPPORTED', `TPM hash algorithm 0x${alg.toString(16).padStart(4, '0')} is not supported`);
  return h;
}

export function digest(alg: number, ...parts: Uint8Array[]): Buffer {
  const h = createHash(hashInfo(alg).node);
  for (const p of parts) h.update(p);
  return h.digest();
}
