/**
 * The little DER the OpenPGP code writes: a DSA key's SubjectPublicKeyInfo for OpenSSL to read, and a DSA
 * signature's SEQUENCE of r and s, as the reference stores it (pyca's encode_dss_signature). Definite
 * lengths up to 65535 octets: a DSA key of 3072 bits is under 1 KiB.
 */

/** A non-negative INTEGER from its big-endian octets: leading zeros dropped, one added where the high bit is set. */
export function derInteger(value: Buffer): Buffer {
  let start = 0;
  while (start < value.length - 1 && value[start] === 0) start++;
  const octets = value.subarray(start);
  // a positive INTEGER whose first octet has its high bit set takes a leading zero
  return der(0x02, octets.length === 0 || (octets[0]! & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), octets]) : octets);
}

/** A tag, its definite length, then the content. */
export function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const n = body.length;
  const length = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, body]);
}
