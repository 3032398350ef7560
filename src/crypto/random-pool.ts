import { randomFillSync } from 'node:crypto';

/**
 * Random octets from the operating system's CSPRNG, drawn 4 KiB at a time. One randomBytes(16) call per
 * certificate serial cost the identity server ~25 µs, half an ECDSA signature (issue 20's profile of SVID
 * issuance); slicing a buffer filled in one call costs ~1 µs. The octets are the same CSPRNG output, each
 * handed out once, as Node's own randomUUID does with its cache.
 */
const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let offset = POOL_SIZE;

/** `n` fresh random octets (a copy of its own, never handed out again); `n` at most 4096. */
export function randomOctets(n: number): Buffer {
  if (!Number.isSafeInteger(n) || n < 0 || n > POOL_SIZE) throw new RangeError(`randomOctets: 0 to ${POOL_SIZE} octets, not ${n}`);
  if (offset + n > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const out = Buffer.from(pool.subarray(offset, offset + n));
  pool.fill(0, offset, offset + n); // what was handed out does not stay in the pool
  offset += n;
  return out;
}
