import { isObject } from '../../util/json-object.js';

/**
 * The OpenPGP public key dictionary the Python reference stores in a layout's `keys` (securesystemslib's
 * GPG_PUBKEY_SCHEMA, as `securesystemslib.gpg.functions.export_pubkey` makes it):
 *
 * ```json
 * {"keyid": "<v4 fingerprint, lower-case hex>", "type": "rsa", "method": "pgp+rsa-pkcsv1.5", "hashes": ["pgp+SHA2"],
 *  "keyval": {"public": {"n": "<hex>", "e": "<hex>"}, "private": ""},
 *  "creation_time": 1700000000, "validity_period": 31536000,
 *  "subkeys": {"<fingerprint>": {…the same fields, no subkeys…}}}
 * ```
 *
 * `keyval.public` is `{n, e}` for RSA, `{p, q, g, y}` for DSA and `{q}` (the 32-octet point) for EdDSA,
 * each the hex of the integer's octets as OpenPGP writes them. As in the reference's schema, a subkey has
 * the type of its primary key.
 */

export type GpgKeyType = 'rsa' | 'dsa' | 'eddsa';

export interface GpgKeyDict {
  keyid: string;
  type: GpgKeyType;
  method: string;
  hashes: string[];
  keyval: { public: Record<string, string>; private: '' };
  /** Seconds since the epoch, from the key packet. */
  creation_time?: number;
  /** Seconds after `creation_time` the key expires, from its self-signature. */
  validity_period?: number;
  subkeys?: Record<string, GpgKeyDict>;
}

/** Per type: the OpenPGP public-key algorithm number (RFC 4880 §9.1), the reference's method name, and the public fields. */
export const GPG_KEY_TYPES: Readonly<Record<GpgKeyType, { algorithm: number; method: string; fields: readonly string[] }>> = {
  rsa: { algorithm: 1, method: 'pgp+rsa-pkcsv1.5', fields: ['e', 'n'] },
  dsa: { algorithm: 17, method: 'pgp+dsa-fips-180-2', fields: ['g', 'p', 'q', 'y'] },
  eddsa: { algorithm: 22, method: 'pgp+eddsa-ed25519', fields: ['q'] },
};

export const GPG_HASHES = 'pgp+SHA2';

/** A keyid as the reference takes one from a user (securesystemslib's KEYID_SCHEMA): hex, a fingerprint or its end. */
export const GPG_KEYID = /^[0-9a-fA-F]+$/;

const KEY_FIELDS = ['keyid', 'type', 'method', 'hashes', 'keyval', 'creation_time', 'validity_period', 'subkeys'];

/** Whether a layout's key dictionary is an OpenPGP one (the reference tells them apart by their schemas). */
export function looksLikeGpgKeyDict(value: unknown): boolean {
  return isObject(value) && ('method' in value || 'hashes' in value) && !('keytype' in value);
}

/** `[where, what]` for each way `value` is not a valid GpgKeyDict; `at` names it. Strict: unknown fields are problems. */
export function gpgKeyDictProblems(value: unknown, at: string, subkey = false): [string, string][] {
  const problems: [string, string][] = [];
  const add = (where: string, what: string) => problems.push([where, what]);
  if (!isObject(value)) return [[at, 'an OpenPGP key is an object with keyid, type, method, hashes and keyval']];
  for (const field of Object.keys(value)) {
    if (!KEY_FIELDS.includes(field) || (subkey && field === 'subkeys')) add(`${at}.${field}`, 'is not a field of an OpenPGP key');
  }
  if (typeof value.keyid !== 'string' || !/^[0-9a-f]{40}$/.test(value.keyid)) {
    add(`${at}.keyid`, "must be the key's fingerprint: 40 lower-case hex characters");
  }
  const type = value.type;
  const spec = typeof type === 'string' && Object.hasOwn(GPG_KEY_TYPES, type) ? GPG_KEY_TYPES[type as GpgKeyType] : undefined;
  if (spec === undefined) {
    add(`${at}.type`, `must be one of ${Object.keys(GPG_KEY_TYPES).join(', ')}, not ${JSON.stringify(type) ?? 'missing'}`);
  } else if (value.method !== spec.method) {
    add(`${at}.method`, `must be "${spec.method}" for a ${String(type)} key, not ${JSON.stringify(value.method) ?? 'missing'}`);
  }
  if (!Array.isArray(value.hashes) || !value.hashes.every((h) => h === GPG_HASHES)) {
    add(`${at}.hashes`, `must be a list of "${GPG_HASHES}"`);
  }
  for (const field of ['creation_time', 'validity_period'] as const) {
    const n = value[field];
    if (n !== undefined && !(Number.isSafeInteger(n) && (n as number) >= 0)) add(`${at}.${field}`, 'must be a whole number of seconds');
  }
  const keyval = value.keyval;
  if (!isObject(keyval)) add(`${at}.keyval`, 'must be an object {"public": {…}, "private": ""}');
  else {
    for (const field of Object.keys(keyval))
      if (field !== 'public' && field !== 'private') add(`${at}.keyval.${field}`, 'is not a field of keyval');
    if (keyval.private !== '') add(`${at}.keyval.private`, 'must be "" (a layout holds no private key)');
    const pub = keyval.public;
    if (!isObject(pub)) add(`${at}.keyval.public`, 'must be an object of hex numbers');
    else if (spec !== undefined) {
      for (const field of Object.keys(pub))
        if (!spec.fields.includes(field)) add(`${at}.keyval.public.${field}`, `is not a field of a ${String(type)} key`);
      for (const field of spec.fields) {
        const v = pub[field];
        if (typeof v !== 'string' || !/^(?:[0-9a-fA-F]{2})+$/.test(v)) add(`${at}.keyval.public.${field}`, 'must be hex octets');
      }
      if (type === 'eddsa' && typeof pub.q === 'string' && pub.q.length !== 64)
        add(`${at}.keyval.public.q`, 'must be the 32-octet ed25519 point');
    }
  }
  if (!subkey && value.subkeys !== undefined) {
    if (!isObject(value.subkeys)) add(`${at}.subkeys`, 'must be an object of fingerprint → OpenPGP key');
    else
      for (const [keyid, sub] of Object.entries(value.subkeys)) {
        const where = `${at}.subkeys[${JSON.stringify(keyid)}]`;
        const inner = gpgKeyDictProblems(sub, where, true);
        problems.push(...inner);
        if (inner.length > 0) continue;
        const s = sub as unknown as GpgKeyDict;
        if (s.keyid !== keyid) add(`${where}.keyid`, `is ${s.keyid}, not the fingerprint it is listed under`);
        // the reference's schema: a subkey is of its primary key's type
        if (s.type !== type) add(`${where}.type`, `is ${s.type}; the subkeys of a ${String(type)} key must be ${String(type)} keys`);
      }
  }
  return problems;
}
