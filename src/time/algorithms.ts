import type { KeyObject } from 'node:crypto';
import { badInput } from '../errors.js';
import { AlgorithmProvider, asn1 } from '../crypto/x509/x509.js';
import { CURVE_HASH, namedCurveOf } from '../crypto/ec-curve.js';

/** A hash a message imprint, a message digest or an ESSCertIDv2 may use: node:crypto's name for it. */
export type HashName = 'sha256' | 'sha384' | 'sha512';

/** The hashes accepted (RFC 3161 leaves the list to the TSA; SHA-1 and MD5 are not collision-resistant). */
export const HASH_OIDS: Readonly<Record<string, HashName>> = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

export const HASH_LENGTHS: Readonly<Record<HashName, number>> = { sha256: 32, sha384: 48, sha512: 64 };

const OID_OF_HASH: Readonly<Record<HashName, string>> = {
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
};

/** The hash an AlgorithmIdentifier names, or undefined for any other (or one with parameters other than NULL). */
export function hashOf(alg: asn1.AlgorithmIdentifier): HashName | undefined {
  const name = HASH_OIDS[alg.algorithm];
  if (name === undefined) return undefined;
  // RFC 5754 §2: parameters absent (preferred) or NULL
  const params = alg.parameters;
  if (params !== undefined && params !== null && !isDerNull(params)) return undefined;
  return name;
}

/** The AlgorithmIdentifier of a hash, parameters absent as RFC 5754 prefers. */
export function hashAlgorithm(name: HashName): asn1.AlgorithmIdentifier {
  return new asn1.AlgorithmIdentifier({ algorithm: OID_OF_HASH[name] });
}

function isDerNull(params: ArrayBuffer): boolean {
  const b = new Uint8Array(params);
  return b.length === 2 && b[0] === 0x05 && b[1] === 0x00;
}

/** How a TSA signs with its key: the digest of its signed attributes and the signature algorithm naming both. */
export interface SignatureScheme {
  /** node:crypto's digest for `sign` (null for Ed25519, which hashes by itself). */
  readonly signDigest: HashName | null;
  /** The CMS digestAlgorithm: the hash of the content in the message-digest attribute. */
  readonly digest: HashName;
  readonly signatureAlgorithm: asn1.AlgorithmIdentifier;
}

/**
 * ECDSA with its curve's hash, RSA PKCS #1 v1.5 with SHA-256, or Ed25519 with SHA-512 as the content
 * digest (RFC 8419 §3); the signature algorithm identifiers are @peculiar/x509's, as certificates use.
 *
 * @throws EvidentError BAD_INPUT for any other key
 */
export function signatureScheme(key: KeyObject): SignatureScheme {
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = namedCurveOf(key);
      const hash: HashName | undefined = curve === undefined ? undefined : CURVE_HASH[curve];
      if (hash === undefined) throw badInput(`a TSA key on curve ${curve ?? '(not a named curve evident supports)'} is not supported`);
      return { signDigest: hash, digest: hash, signatureAlgorithm: webAlgorithm({ name: 'ECDSA', hash: webHash(hash) }) };
    }
    case 'rsa':
      return { signDigest: 'sha256', digest: 'sha256', signatureAlgorithm: webAlgorithm({ name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }) };
    case 'ed25519':
      return { signDigest: null, digest: 'sha512', signatureAlgorithm: webAlgorithm({ name: 'Ed25519' }) };
    default:
      throw badInput(`a TSA key of type ${key.asymmetricKeyType ?? '?'} is not supported`);
  }
}

function webHash(h: HashName): string {
  return `SHA-${h.slice(3)}`;
}

function webAlgorithm(alg: { name: string; hash?: string }): asn1.AlgorithmIdentifier {
  return new AlgorithmProvider().toAsnAlgorithm(alg);
}

/** Signature algorithms a token may be signed with: the key type each needs and the digest it fixes (undefined: the SignerInfo's digestAlgorithm). */
const SIGNATURE_OIDS: Readonly<Record<string, { keyType: string; digest: HashName | undefined | null }>> = {
  '1.2.840.10045.4.3.2': { keyType: 'ec', digest: 'sha256' }, // ecdsa-with-SHA256
  '1.2.840.10045.4.3.3': { keyType: 'ec', digest: 'sha384' },
  '1.2.840.10045.4.3.4': { keyType: 'ec', digest: 'sha512' },
  '1.2.840.10045.2.1': { keyType: 'ec', digest: undefined }, // id-ecPublicKey, as some signers write it
  '1.2.840.113549.1.1.11': { keyType: 'rsa', digest: 'sha256' }, // sha256WithRSAEncryption
  '1.2.840.113549.1.1.12': { keyType: 'rsa', digest: 'sha384' },
  '1.2.840.113549.1.1.13': { keyType: 'rsa', digest: 'sha512' },
  '1.2.840.113549.1.1.1': { keyType: 'rsa', digest: undefined }, // rsaEncryption: the hash is the SignerInfo's
  '1.3.101.112': { keyType: 'ed25519', digest: null }, // Ed25519
};

/**
 * The digest node:crypto's `verify` takes for a SignerInfo's signature algorithm made with a key of
 * `keyType`: a hash, null for Ed25519, or undefined when the algorithm is not one accepted here
 * (RSASSA-PSS, DSA, SHA-1, …) or not one of that key.
 */
export function verifyDigest(
  signatureAlgorithm: string,
  digestAlgorithm: HashName,
  keyType: string | undefined,
): HashName | null | undefined {
  const known = SIGNATURE_OIDS[signatureAlgorithm];
  if (known === undefined || known.keyType !== keyType) return undefined;
  return known.digest === undefined ? digestAlgorithm : known.digest;
}
