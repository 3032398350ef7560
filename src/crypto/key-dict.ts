import { createHash, X509Certificate } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';

/**
 * The securesystemslib key dictionary, as layouts embed it and `in-toto-keygen` writes it:
 * ed25519 `keyval.public` is lowercase hex of the raw key; ecdsa and rsa `keyval.public` is a PEM
 * SubjectPublicKeyInfo. `keyval.certificate` is in-toto-golang's extension for CA keys.
 */
export interface KeyDict {
  keytype: string;
  scheme: string;
  keyid?: string;
  keyid_hash_algorithms?: string[];
  keyval: { public: string; private?: string; certificate?: string };
}

export type KeyType = 'ed25519' | 'ecdsa' | 'rsa';
export type Scheme = 'ed25519' | 'ecdsa-sha2-nistp256' | 'ecdsa-sha2-nistp384' | 'ecdsa-sha2-nistp521' | 'rsassa-pss-sha256';
export const SCHEMES: readonly Scheme[] = [
  'ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsassa-pss-sha256',
];

/** securesystemslib always hashes the public form with this list in it, whatever the key dict says. */
export const KEYID_HASH_ALGORITHMS: readonly string[] = ['sha256', 'sha512'];

/**
 * The keyid exactly as securesystemslib computes it: sha256 over the canonical JSON of
 * `{keytype, scheme, keyid_hash_algorithms: ["sha256","sha512"], keyval: {public}}`.
 */
export function computeKeyid(dict: Pick<KeyDict, 'keytype' | 'scheme' | 'keyval'>): string {
  const publicForm = {
    keytype: dict.keytype,
    scheme: dict.scheme,
    keyid_hash_algorithms: KEYID_HASH_ALGORITHMS,
    keyval: { public: publicValueOf(dict) },
  };
  return createHash('sha256').update(canonicalJson(publicForm), 'utf8').digest('hex');
}

/** The keytype securesystemslib writes for a scheme. */
export function keytypeOf(scheme: Scheme): KeyType {
  if (scheme === 'ed25519') return 'ed25519';
  if (scheme === 'rsassa-pss-sha256') return 'rsa';
  return 'ecdsa';
}

/**
 * The `keyval.public` a dict stands for. in-toto-golang writes CA entries (`rootcas`, `intermediatecas`)
 * with `"public": ""` beside the certificate, and computed their keyid when it loaded the certificate, over
 * the certificate's public key as PEM SubjectPublicKeyInfo — so that is the public value here too.
 * Throws when the certificate cannot be read; callers name the dict.
 */
export function publicValueOf(dict: Pick<KeyDict, 'keyval'>): string {
  const { public: pub, certificate } = dict.keyval;
  if (pub !== '' || typeof certificate !== 'string') return pub;
  return (new X509Certificate(certificate).publicKey.export({ type: 'spki', format: 'pem' }) as string).trim();
}
