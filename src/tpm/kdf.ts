/**
 * The TPM's key derivation functions (TPM 2.0 Part 1 §11.4.10), both counter-mode with a 32-bit counter
 * starting at 1 and the output cut to `bits` (whole bytes here: every use is a key or a digest size):
 *
 * - KDFa (SP 800-108 with HMAC): K(i) = HMAC_hash(key, [i]₃₂ ‖ label ‖ 0x00 ‖ contextU ‖ contextV ‖ [bits]₃₂)
 * - KDFe (SP 800-56A's concatenation KDF): K(i) = H_hash([i]₃₂ ‖ Z ‖ use ‖ 0x00 ‖ partyUInfo ‖ partyVInfo)
 *
 * The labels are the spec's strings ("STORAGE", "INTEGRITY", "IDENTITY"); the terminating 0x00 is added
 * here once, as the reference implementation does for a label that does not already end in one.
 */
import { createHmac } from 'node:crypto';
import { EvidentError } from '../errors.js';
import { digest, hashInfo } from './hash.js';

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
}

function terminated(label: string): Buffer {
  return Buffer.from(label.endsWith('\0') ? label : `${label}\0`, 'latin1');
}

function counterMode(bits: number, block: (counter: Buffer) => Buffer): Buffer {
  if (bits <= 0 || bits % 8 !== 0) throw new EvidentError('INTERNAL', `KDF output of ${bits} bits is not a whole number of bytes`);
  const bytes = bits / 8;
  const blocks: Buffer[] = [];
  for (let i = 1, got = 0; got < bytes; i++) {
    const b = block(u32(i));
    blocks.push(b);
    got += b.length;
  }
  return Buffer.concat(blocks).subarray(0, bytes);
}

export function kdfa(hashAlg: number, key: Buffer, label: string, contextU: Buffer, contextV: Buffer, bits: number): Buffer {
  const name = hashInfo(hashAlg).node;
  return counterMode(bits, (counter) =>
    createHmac(name, key).update(counter).update(terminated(label)).update(contextU).update(contextV).update(u32(bits)).digest(),
  );
}

export function kdfe(hashAlg: number, z: Buffer, use: string, partyUInfo: Buffer, partyVInfo: Buffer, bits: number): Buffer {
  return counterMode(bits, (counter) => digest(hashAlg, counter, z, terminated(use), partyUInfo, partyVInfo));
}
