import { constants, createHash, createVerify, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { sequence, unsignedInteger } from '../der.js';
import { GPG_KEY_TYPES, type GpgKeyDict, type GpgKeyType } from './key-dict.js';
import { malformed, PACKET, readMpi, readPacket, readSubpackets, SUBPACKET, uint16 } from './packets.js';

/**
 * An OpenPGP signature in the Python reference's metablock form (securesystemslib's GPG_SIGNATURE_SCHEMA):
 * a v4 signature packet split in two. `other_headers` is the packet's start up to the end of its hashed
 * subpackets (version, type, algorithms, the hashed area), which the signed hash covers after the content;
 * `signature` the algorithm's values (RSA: the integer's octets; DSA: DER SEQUENCE of r and s; EdDSA: r
 * then s, 32 octets each); `keyid` the fingerprint of the key that signed, a primary key or a subkey. A
 * signature is checked from these alone, no keyring needed.
 */
export interface GpgSignature {
  keyid: string;
  other_headers: string;
  signature: string;
  // absent, so that code reading any metablock signature's `sig`, `cert` or `timestamps` finds none here
  sig?: undefined;
  cert?: undefined;
  timestamps?: undefined;
}

/** Whether a metablock's signature entry is in the OpenPGP form (the reference tells the two apart by their fields). */
export function isGpgSignature(entry: object): entry is GpgSignature {
  return 'other_headers' in entry || 'signature' in entry;
}

const SIGNATURE_FIELDS = ['keyid', 'other_headers', 'signature'];
const HEX = /^(?:[0-9a-f]{2})+$/;

/** `[field, what]` for each way an entry is not a GpgSignature: the reference's fields, hex, a full fingerprint. */
export function gpgSignatureProblems(entry: Record<string, unknown>): [string, string][] {
  const problems: [string, string][] = [];
  for (const field of Object.keys(entry)) {
    // `short_keyid` is what the reference drops before writing; it only repeats the fingerprint's tail
    if (!SIGNATURE_FIELDS.includes(field) && field !== 'short_keyid') problems.push([field, 'is not a field of an OpenPGP signature']);
  }
  if (typeof entry.keyid !== 'string' || !/^[0-9a-f]{40}$/.test(entry.keyid)) {
    problems.push(['keyid', 'must be the fingerprint of the signing key: 40 lower-case hex characters']);
  }
  for (const field of ['other_headers', 'signature'] as const) {
    if (typeof entry[field] !== 'string' || !HEX.test(entry[field])) problems.push([field, 'must be lower-case hex octets']);
  }
  return problems;
}

/** Copies a valid entry with only the reference's three fields, in its order. */
export function copyGpgSignature(entry: GpgSignature): GpgSignature {
  return { keyid: entry.keyid, other_headers: entry.other_headers, signature: entry.signature };
}

/** RFC 4880 §9.1 and §9.4 numbers: the signature type of a signature over a binary document, and SHA-256. */
const BINARY_DOCUMENT = 0x00;
const SHA256 = 8;

/**
 * Whether `signature` is `key`'s signature over `content`, as the reference checks it: SHA-256 over the
 * content, `other_headers`, the v4 trailer (0x04 0xFF, then the headers' length in four octets), verified
 * with the key's algorithm. Stricter than the reference in one way: the headers must be those of a v4
 * signature over a binary document with SHA-256 by the key's algorithm, the only ones its `gpg
 * --detach-sign --digest-algo SHA256` makes (the reference hashes with SHA-256 whatever they say).
 */
export function verifyGpgSignature(signature: GpgSignature, key: GpgVerificationKey, content: Uint8Array): boolean {
  const headers = Buffer.from(signature.other_headers, 'hex');
  if (!headersFit(headers, key.dict.type)) return false;
  return verifyOverHeaders(key, 'sha256', headers, Buffer.from(signature.signature, 'hex'), content);
}

/** A key as signatures are checked with it: its dict (its type, RSA's modulus length) and its OpenSSL key. */
export interface GpgVerificationKey {
  readonly dict: GpgKeyDict;
  readonly keyObject: KeyObject;
}

/** The hashes self-signatures may use, as the reference accepts them: SHA-1, SHA-256, SHA-512 (RFC 4880 §9.4). */
export const SELF_SIGNATURE_HASHES: ReadonlyMap<number, string> = new Map([
  [2, 'sha1'],
  [8, 'sha256'],
  [10, 'sha512'],
]);

/** Whether a parsed self-signature (a certification or a subkey binding) by `key` is valid over `content`. */
export function verifySelfSignature(parsed: ParsedSignature, key: GpgVerificationKey, content: Uint8Array): boolean {
  const hash = SELF_SIGNATURE_HASHES.get(parsed.hashAlgorithm);
  if (hash === undefined || parsed.keyType !== key.dict.type) return false;
  return verifyOverHeaders(key, hash, Buffer.from(parsed.entry.other_headers, 'hex'), Buffer.from(parsed.entry.signature, 'hex'), content);
}

/** The v4 rule (RFC 4880 §5.2.4): the hash of the content, the headers, 0x04 0xFF and the headers' length, signed by the key. */
function verifyOverHeaders(key: GpgVerificationKey, hash: string, headers: Buffer, signature: Buffer, content: Uint8Array): boolean {
  const trailer = Buffer.alloc(6);
  trailer[0] = 4;
  trailer[1] = 0xff;
  trailer.writeUInt32BE(headers.length, 2);
  let value = signature;
  try {
    switch (key.dict.type) {
      case 'eddsa': {
        // EdDSA in OpenPGP signs the digest, not the data
        const digest = createHash(hash).update(content).update(headers).update(trailer).digest();
        return nodeVerify(null, digest, key.keyObject, value);
      }
      case 'rsa': {
        // the integer is written without leading zero octets; OpenSSL wants the modulus's length
        const size = (key.dict.keyval.public.n ?? '').length / 2;
        if (value.length < size) value = Buffer.concat([Buffer.alloc(size - value.length), value]);
        return createVerify(hash)
          .update(content)
          .update(headers)
          .update(trailer)
          .verify({ key: key.keyObject, padding: constants.RSA_PKCS1_PADDING }, value);
      }
      case 'dsa':
        return createVerify(hash).update(content).update(headers).update(trailer).verify({ key: key.keyObject, dsaEncoding: 'der' }, value);
    }
  } catch {
    return false;
  }
}

/** Version 4, a binary document, the key's algorithm, SHA-256, and a hashed area that ends the headers exactly. */
function headersFit(headers: Buffer, type: GpgKeyType): boolean {
  if (headers.length < 6) return false;
  return (
    headers[0] === 4 &&
    headers[1] === BINARY_DOCUMENT &&
    headers[2] === GPG_KEY_TYPES[type].algorithm &&
    headers[3] === SHA256 &&
    headers.readUInt16BE(4) === headers.length - 6
  );
}

/** The key type of an OpenPGP public-key algorithm number, if the reference supports it. */
export function gpgKeyTypeOf(algorithm: number): GpgKeyType | undefined {
  return (Object.keys(GPG_KEY_TYPES) as GpgKeyType[]).find((t) => GPG_KEY_TYPES[t].algorithm === algorithm);
}

/** A signature packet read by readSignaturePacket: the reference's entry, and what else its subpackets say. */
export interface ParsedSignature {
  readonly entry: GpgSignature;
  readonly type: number;
  readonly hashAlgorithm: number;
  readonly keyType: GpgKeyType;
  /** The signature's creation time (seconds since the epoch). */
  readonly created: number;
  /** The issuer's fingerprint when the packet names it, else its 8-octet key ID (both lower-case hex). */
  readonly issuer: string;
  /** The hashed subpackets, each type's last: later ones win, and only hashed ones are signed. */
  readonly hashed: ReadonlyMap<number, Buffer>;
}

/**
 * Reads a v4 signature packet (as `gpg --detach-sign` writes one, or a self-signature in a key) into the
 * reference's entry, as securesystemslib's parse_signature_packet does: the issuer from the Issuer
 * Fingerprint subpacket (else the 8-octet Issuer key ID), hashed ones taking precedence over unhashed ones.
 *
 * @throws EvidentError BAD_INPUT for a packet that is not a v4 signature by a supported algorithm
 */
export function readSignaturePacket(packet: Buffer): ParsedSignature {
  const { tag, body } = readPacket(packet, 0);
  if (tag !== PACKET.signature) throw malformed(`expected a signature packet, found packet type ${tag}`);
  if (body[0] !== 4) throw malformed(`signature version ${String(body[0])} is not supported (only version 4)`);
  const type = body[1]!;
  const keyType = gpgKeyTypeOf(body[2]!);
  if (keyType === undefined) throw malformed(`signature algorithm ${String(body[2])} is not supported (RSA, DSA or EdDSA)`);
  const hashAlgorithm = body[3]!;
  const hashedLength = uint16(body, 4);
  const hashedEnd = 6 + hashedLength;
  if (hashedEnd + 2 > body.length) throw malformed('the hashed subpackets run past the signature');
  const hashedArea = readSubpackets(body.subarray(6, hashedEnd));
  const unhashedLength = uint16(body, hashedEnd);
  const valuesAt = hashedEnd + 2 + unhashedLength + 2; // after the unhashed area and the digest's left 16 bits
  if (valuesAt > body.length) throw malformed('the unhashed subpackets run past the signature');
  const unhashedArea = readSubpackets(body.subarray(hashedEnd + 2, hashedEnd + 2 + unhashedLength));
  let fingerprint = '';
  let shortKeyid = '';
  let created: number | undefined;
  for (const { type: t, body: b } of [...unhashedArea, ...hashedArea]) {
    if (t === SUBPACKET.issuerFingerprint && b.length === 21 && b[0] === 4) fingerprint = b.subarray(1).toString('hex');
    if (t === SUBPACKET.issuer && b.length === 8) shortKeyid = b.toString('hex');
    if (t === SUBPACKET.creationTime && b.length === 4) created = b.readUInt32BE(0);
  }
  if (fingerprint === '' && shortKeyid === '') throw malformed('the signature names no issuer');
  if (fingerprint !== '' && shortKeyid !== '' && !fingerprint.endsWith(shortKeyid))
    throw malformed('the Issuer key ID is not the end of the Issuer Fingerprint');
  if (created === undefined) throw malformed('the signature has no creation time');
  const hashed = new Map<number, Buffer>();
  for (const s of hashedArea) hashed.set(s.type, s.body);
  const values = signatureValues(keyType, body.subarray(valuesAt));
  return {
    entry: { keyid: fingerprint, other_headers: body.subarray(0, hashedEnd).toString('hex'), signature: values.toString('hex') },
    type,
    hashAlgorithm,
    keyType,
    created,
    issuer: fingerprint || shortKeyid,
    hashed,
  };
}

function signatureValues(type: GpgKeyType, data: Buffer): Buffer {
  if (type === 'rsa') return readMpi(data, 0).value;
  const r = readMpi(data, 0);
  const s = readMpi(data, r.next);
  if (type === 'dsa') return sequence(unsignedInteger(r.value), unsignedInteger(s.value));
  if (r.value.length > 32 || s.value.length > 32) throw malformed('an EdDSA signature value is longer than 32 octets');
  return Buffer.concat([Buffer.alloc(32 - r.value.length), r.value, Buffer.alloc(32 - s.value.length), s.value]);
}
