import { randomFillSync } from 'node:crypto';

/** Random bytes drawn a few kilobytes at a time: one call into OpenSSL per 256 serials, not one per token. */
const pool = Buffer.alloc(4096);
let used = pool.length;

/** 128 random bits, positive (top bit clear) and never starting with a zero byte: unique per token, as RFC 3161 asks. */
export function randomSerialNumber(): ArrayBuffer {
  if (used + 16 > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const b = new Uint8Array(pool.subarray(used, used + 16));
  used += 16;
  b[0] = (b[0]! & 0x7f) | 0x01;
  return b.buffer;
}
