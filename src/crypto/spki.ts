import { createPublicKey } from 'node:crypto';

/**
 * A fast, exact check of the one public key form a CA certifies thousands of times a second: an EC
 * P-256 or P-384 key as DER SubjectPublicKeyInfo with an uncompressed point. OpenSSL's import and
 * export of such a key (node:crypto createPublicKey, then export) cost two thirds of an X509-SVID's
 * CPU time (profiled with `npm run bench -- identity-server`); this checks the same things, in the
 * same strictness, in a few microseconds: the bytes are the canonical DER of that structure, and the
 * point is on the curve (so a certificate never names a key no one can hold). Other forms are left to
 * node:crypto (the caller's fallback).
 */

interface Curve {
  /** Everything before the point: SEQUENCE, AlgorithmIdentifier (id-ecPublicKey, the curve's OID), BIT STRING header. */
  readonly prefix: Buffer;
  readonly bytes: number;
  readonly p: bigint;
  readonly b: bigint;
}

const CURVES: readonly Curve[] = [
  {
    prefix: Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex'),
    bytes: 32,
    p: BigInt('0xffffffff00000001000000000000000000000000ffffffffffffffffffffffff'),
    b: BigInt('0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b'),
  },
  {
    prefix: Buffer.from('3076301006072a8648ce3d020106052b81040022036200', 'hex'),
    bytes: 48,
    p: BigInt('0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff'),
    b: BigInt('0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef'),
  },
];

/**
 * What `der` is: `'valid'` (canonical uncompressed P-256/P-384 SPKI, point on the curve), `'invalid'`
 * (that form, but a point off the curve or out of range), or `'other'` (any other form: ask node:crypto).
 */
export function checkEcSpki(der: Uint8Array): 'valid' | 'invalid' | 'other' {
  for (const c of CURVES) {
    if (der.length !== c.prefix.length + 1 + 2 * c.bytes) continue;
    if (!c.prefix.equals(Buffer.from(der.buffer, der.byteOffset, c.prefix.length))) continue;
    const point = Buffer.from(der.buffer, der.byteOffset + c.prefix.length, 1 + 2 * c.bytes);
    if (point[0] !== 0x04) return 'other'; // a compressed point: node:crypto decides
    const x = BigInt(`0x${point.subarray(1, 1 + c.bytes).toString('hex')}`);
    const y = BigInt(`0x${point.subarray(1 + c.bytes).toString('hex')}`);
    if (x >= c.p || y >= c.p) return 'invalid';
    // the curves are y² = x³ - 3x + b (mod p)
    const left = (y * y) % c.p;
    const right = (((x * x) % c.p) * x - 3n * x + c.b) % c.p;
    return left === (right + c.p) % c.p ? 'valid' : 'invalid';
  }
  return 'other';
}

/**
 * A public key sent as DER SubjectPublicKeyInfo, as it goes into a certificate: canonical DER of a key
 * that parses (a point on its curve). The common form (checkEcSpki) is taken as sent; any other is read
 * by node:crypto and written again, so whatever encoding was sent, the certificate holds DER.
 *
 * @throws Error naming what is wrong (callers say in whose terms)
 */
export function canonicalSpki(der: Uint8Array): Buffer {
  const ec = checkEcSpki(der);
  if (ec === 'valid') return Buffer.from(der);
  if (ec === 'invalid') throw new Error('the EC point is not on its curve');
  return createPublicKey({ key: Buffer.from(der.buffer, der.byteOffset, der.byteLength), format: 'der', type: 'spki' }).export({
    format: 'der',
    type: 'spki',
  });
}
