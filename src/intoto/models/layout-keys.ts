import { X509Certificate } from 'node:crypto';
import { dictKeys } from '../../crypto/identity-cache.js';
import type { KeyDict } from '../../crypto/key-dict.js';
import { computeKeyid } from '../../crypto/key-dict.js';
import { keyFingerprint, PublicKey } from '../../crypto/keys.js';
import { looksLikeGpgKeyDict, type GpgKeyDict } from '../../crypto/gpg/key-dict.js';
import { GpgPublicKey } from '../../crypto/gpg/public-key.js';
import { isEvidentError } from '../../errors.js';
import { checkGpgKeyDict } from './gpg-layout-key.js';
import { checkKnownFields, describeType, isHex, isObject, join, Problems, stringList } from './problems.js';

const KEY_FIELDS = ['keytype', 'scheme', 'keyid', 'keyid_hash_algorithms', 'keyval', 'expires'] as const;
const KEYVAL_FIELDS = ['public', 'private', 'certificate'] as const;
const HASH_ALGORITHMS = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512', 'blake2s', 'blake2b', 'blake2b-256'];

/**
 * Validates a `keyid → public key` dictionary (`keys`, or in-toto-golang's `rootcas` /
 * `intermediatecas` when `certificates` is set, where `keyval.certificate` is required). Each dict is
 * kept exactly as written, since the layout is signed over it; its keyid (the dictionary key, and its `keyid` field)
 * must be the keyid computed from the key, otherwise a step could name a key that is not the one that verifies it.
 */
export function checkKeyDicts(
  value: unknown,
  where: string,
  problems: Problems,
  options: { certificates: true },
): Record<string, KeyDict> | undefined;
export function checkKeyDicts(value: unknown, where: string, problems: Problems): Record<string, KeyDict | GpgKeyDict> | undefined;
export function checkKeyDicts(
  value: unknown,
  where: string,
  problems: Problems,
  options: { certificates?: boolean } = {},
): Record<string, KeyDict | GpgKeyDict> | undefined {
  if (value === undefined) return {};
  if (!isObject(value)) {
    problems.add(where, `must be an object of keyid → public key, not ${describeType(value)}`);
    return undefined;
  }
  const before = problems.size;
  const out: Record<string, KeyDict | GpgKeyDict> = {};
  // functionary keys by key material: thresholds count functionaries, so no key may be two of them
  const listedAt = options.certificates === true ? undefined : new Map<string, string>();
  for (const [keyid, dict] of Object.entries(value)) {
    const at = `${where}[${JSON.stringify(keyid)}]`;
    if (!isHex(keyid)) problems.add(at, 'the keyid must be hex');
    if (listedAt !== undefined && looksLikeGpgKeyDict(dict)) {
      // the Python reference's OpenPGP key (gpg-layout-key.ts); its keyid is its fingerprint
      const gpg = checkGpgKeyDict(dict, keyid, at, problems);
      if (gpg !== undefined && !listedTwice(listedAt, layoutKey(gpg).fingerprint, at, problems)) out[keyid] = gpg;
      continue;
    }
    const key = checkKeyDict(dict, at, problems, options.certificates === true);
    if (key === undefined) continue;
    const computed = computeKeyid(key);
    if (key.keyid !== undefined && key.keyid !== computed) {
      problems.add(join(at, 'keyid'), `is ${key.keyid}, but the key's computed keyid is ${computed}`);
    } else if (keyid !== computed) {
      problems.add(at, `the key's computed keyid is ${computed}, not the keyid it is listed under`);
    } else if (listedAt !== undefined) {
      listedTwice(listedAt, layoutKey(key).fingerprint, at, problems);
    }
    out[keyid] = key;
  }
  return problems.size > before ? undefined : out;
}

/**
 * The key of a dict of a layout's `keys`: made when the layout was validated (checkKeyDict makes each
 * once, so its fingerprint is computed once), else now (a layout built in memory). Cached per dict
 * (crypto/identity-cache.ts): do not change the dict after passing it. `where` names the dict in the error.
 *
 * @throws EvidentError BAD_KEY when the dict holds no usable key
 */
export function layoutKey(dict: KeyDict | GpgKeyDict, where = 'key'): PublicKey {
  return dictKeys.get(dict, (d) => (looksLikeGpgKeyDict(d) ? GpgPublicKey.fromGpgDict(d, where) : PublicKey.fromDict(d as KeyDict, where)));
}

/** The dict a layout's `keys` stores for `key`: an OpenPGP key's as the reference stores it, any other's securesystemslib dict. */
export function layoutKeyDict(key: PublicKey): KeyDict | GpgKeyDict {
  return key instanceof GpgPublicKey ? key.toGpgDict() : key.toDict();
}

/** Whether the key of fingerprint `fingerprint` (at `at`) was listed before, which is a problem; records it. */
function listedTwice(listedAt: Map<string, string>, fingerprint: string, at: string, problems: Problems): boolean {
  const first = listedAt.get(fingerprint);
  if (first !== undefined) {
    problems.add(at, `is the same key as ${first}, written differently (one key under two keyids would count twice toward a threshold)`);
    return true;
  }
  listedAt.set(fingerprint, at);
  return false;
}

function checkKeyDict(dict: unknown, at: string, problems: Problems, certificate: boolean): KeyDict | undefined {
  if (!isObject(dict)) {
    problems.add(at, `a public key is an object with keytype, scheme and keyval, not ${describeType(dict)}`);
    return undefined;
  }
  const before = problems.size;
  if ('method' in dict || 'hashes' in dict) {
    problems.add(at, 'an OpenPGP key cannot be a CA: give its PEM certificate');
    return undefined;
  }
  checkKnownFields(dict, KEY_FIELDS, at, problems);
  for (const field of ['keytype', 'scheme'] as const) {
    if (typeof dict[field] !== 'string') problems.add(join(at, field), dict[field] === undefined ? 'is missing' : 'must be a string');
  }
  if (dict.keyid !== undefined && !isHex(dict.keyid)) problems.add(join(at, 'keyid'), 'must be hex');
  if (dict.expires !== undefined && typeof dict.expires !== 'string') problems.add(join(at, 'expires'), 'must be a string');
  if (dict.keyid_hash_algorithms !== undefined) {
    stringList(dict.keyid_hash_algorithms, join(at, 'keyid_hash_algorithms'), problems)?.forEach((alg, i) => {
      if (!HASH_ALGORITHMS.includes(alg)) problems.add(join(join(at, 'keyid_hash_algorithms'), i), `unknown hash algorithm '${alg}'`);
    });
  }
  const keyval = dict.keyval;
  if (!isObject(keyval)) {
    problems.add(join(at, 'keyval'), keyval === undefined ? 'is missing' : 'must be an object with "public"');
    return undefined;
  }
  checkKnownFields(keyval, KEYVAL_FIELDS, join(at, 'keyval'), problems);
  if (typeof keyval.public !== 'string')
    problems.add(join(at, 'keyval.public'), keyval.public === undefined ? 'is missing' : 'must be a string');
  if (keyval.private !== undefined && keyval.private !== '')
    problems.add(join(at, 'keyval.private'), 'a layout must not hold a private key');
  if (certificate && typeof keyval.certificate !== 'string')
    problems.add(join(at, 'keyval.certificate'), 'a CA entry needs its PEM certificate');
  // in-toto-golang also writes the certificate of a functionary key loaded from one
  if (!certificate && keyval.certificate !== undefined && typeof keyval.certificate !== 'string')
    problems.add(join(at, 'keyval.certificate'), 'must be a PEM string');
  if (problems.size > before) return undefined;
  const key = dict as unknown as KeyDict;
  let publicKey: PublicKey;
  try {
    publicKey = PublicKey.fromDict(key, at);
    if (typeof key.keyval.certificate === 'string') checkCertificate(key.keyval.certificate, publicKey, at, problems);
  } catch (e) {
    if (!isEvidentError(e)) throw e;
    problems.add('', e.message);
    return undefined;
  }
  const copy = structuredClone(key);
  dictKeys.remember(copy, publicKey);
  return copy;
}

function checkCertificate(pem: string, publicKey: PublicKey, at: string, problems: Problems): void {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (e) {
    problems.add(join(at, 'keyval.certificate'), `is not a PEM certificate (${(e as Error).message})`);
    return;
  }
  let certKey: string;
  try {
    // OpenSSL decodes the key only now: a point off its curve throws here
    certKey = keyFingerprint(cert.publicKey);
  } catch (e) {
    problems.add(join(at, 'keyval.certificate'), `has a public key that cannot be used (${(e as Error).message})`);
    return;
  }
  if (certKey !== publicKey.fingerprint) problems.add(join(at, 'keyval.public'), "is not the certificate's public key");
}
