import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { EvidentError } from '../../errors.js';
import { sequence, tlv, unsignedInteger } from '../der.js';
import { GPG_KEY_TYPES, type GpgKeyDict } from './key-dict.js';
import { keyPacketAsHashed } from './packets.js';

/**
 * What an OpenPGP key dictionary stands for: the key OpenSSL verifies with, and the v4 fingerprint
 * (RFC 4880 §12.2) of the key packet it was read from, rebuilt from its fields.
 */

/** The ed25519 curve's OID as OpenPGP writes it in a key packet (RFC 4880bis §9.2), and the prefix of its native point encoding. */
export const ED25519_OID = Buffer.from('2b06010401da470f01', 'hex');
const EDDSA_POINT_PREFIX = 0x40;

/** The Node key object of a validated dict (gpgKeyDictProblems found none). */
export function gpgKeyObject(dict: GpgKeyDict): KeyObject {
  const pub = dict.keyval.public;
  const b64 = (hex: string | undefined) => Buffer.from(hex ?? '', 'hex').toString('base64url');
  try {
    switch (dict.type) {
      case 'rsa':
        return createPublicKey({ key: { kty: 'RSA', n: b64(pub.n), e: b64(pub.e) }, format: 'jwk' });
      case 'eddsa':
        return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64(pub.q) }, format: 'jwk' });
      case 'dsa':
        return createPublicKey({ key: dsaSpki(pub), format: 'der', type: 'spki' });
    }
  } catch (e) {
    throw new EvidentError('BAD_KEY', `OpenPGP key ${dict.keyid}: its ${dict.type} public key cannot be used (${(e as Error).message})`);
  }
}

/**
 * The v4 fingerprint of the key packet the dict was read from: SHA-1 over 0x99, the body's length in two
 * octets, and the body (version 4, creation time, algorithm, the public integers). Only a dict that
 * states its creation time can be checked so.
 */
export function gpgFingerprint(dict: GpgKeyDict & { creation_time: number }): string {
  const pub = dict.keyval.public;
  const mpis =
    dict.type === 'eddsa'
      ? [Buffer.from([ED25519_OID.length]), ED25519_OID, mpi(Buffer.concat([Buffer.from([EDDSA_POINT_PREFIX]), hex(pub.q)]))]
      : GPG_KEY_TYPES[dict.type].fields.length === 2
        ? [mpi(hex(pub.n)), mpi(hex(pub.e))]
        : [mpi(hex(pub.p)), mpi(hex(pub.q)), mpi(hex(pub.g)), mpi(hex(pub.y))];
  const head = Buffer.alloc(6);
  head[0] = 4;
  head.writeUInt32BE(dict.creation_time, 1);
  head[5] = GPG_KEY_TYPES[dict.type].algorithm;
  return createHash('sha1')
    .update(keyPacketAsHashed(Buffer.concat([head, ...mpis])))
    .digest('hex');
}

const hex = (value: string | undefined): Buffer => Buffer.from(value ?? '', 'hex');

/** An OpenPGP multiprecision integer: its length in bits (two octets), then its octets without leading zeros. */
function mpi(value: Buffer): Buffer {
  let start = 0;
  while (start < value.length - 1 && value[start] === 0) start++;
  const octets = value.subarray(start);
  const bits = octets.length === 0 ? 0 : (octets.length - 1) * 8 + (32 - Math.clz32(octets[0]!));
  const out = Buffer.alloc(2 + octets.length);
  out.writeUInt16BE(bits, 0);
  out.set(octets, 2);
  return out;
}

/** SubjectPublicKeyInfo of a DSA key (RFC 3279 §2.3.2): Node reads DSA keys only from DER or PEM. */
function dsaSpki(pub: Record<string, string>): Buffer {
  const dsaOid = Buffer.from('06072a8648ce380401', 'hex');
  const parameters = sequence(unsignedInteger(hex(pub.p)), unsignedInteger(hex(pub.q)), unsignedInteger(hex(pub.g)));
  return sequence(sequence(dsaOid, parameters), tlv(0x03, Buffer.from([0]), unsignedInteger(hex(pub.y))));
}
