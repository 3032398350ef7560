import {
  createHash,
  createPrivateKey,
  createPublicKey,
  sign as nodeSign,
  verify as nodeVerify,
  constants,
  type KeyObject,
} from 'node:crypto';
import { EvidentError } from '../errors.js';
import { computeKeyid, KEYID_HASH_ALGORITHMS, keytypeOf, publicValueOf, SCHEMES, type KeyDict, type Scheme } from './key-dict.js';
import { CURVE_HASH, describeCurve, namedCurveOf } from './ec-curve.js';

/**
 * A verification key: the Node key object plus its securesystemslib identity (scheme, keyid, and the
 * exact `keyval.public` string the keyid was computed over — re-encoding it would change the keyid).
 */
export class PublicKey {
  private material: string | undefined;

  // protected: an OpenPGP key (crypto/gpg/public-key.ts) is a PublicKey verified by its own rules
  protected constructor(
    readonly keyObject: KeyObject,
    readonly scheme: Scheme,
    readonly publicValue: string,
    readonly keyid: string,
  ) {}

  /**
   * The key material, whatever text it came as: SHA-256 (hex) of its DER SubjectPublicKeyInfo in one
   * form. A keyid hashes the text, and one key has many (PEM wrapped at any width, an EC point compressed
   * or not, RSA as PKCS#1 or SPKI, keytype `ecdsa` or the scheme's name), so whatever must count a key
   * once — thresholds, "the key of this certificate" — compares this. Computed once per object.
   */
  get fingerprint(): string {
    this.material ??= keyFingerprint(this.keyObject);
    return this.material;
  }

  /** From a key dictionary as found in a layout or a JSON key file. */
  static fromDict(dict: KeyDict, where = 'key'): PublicKey {
    const scheme = dict.scheme as Scheme;
    if (!SCHEMES.includes(scheme)) {
      throw new EvidentError(
        'BAD_KEY',
        `${where}: unsupported signature scheme '${String(dict.scheme)}' (supported: ${SCHEMES.join(', ')})`,
      );
    }
    const expectedType = keytypeOf(scheme);
    const keytypeOk = dict.keytype === expectedType || (expectedType === 'ecdsa' && dict.keytype === scheme);
    if (!keytypeOk) {
      throw new EvidentError('BAD_KEY', `${where}: keytype '${String(dict.keytype)}' does not go with scheme '${scheme}'`);
    }
    if (typeof dict.keyval?.public !== 'string') {
      throw new EvidentError('BAD_KEY', `${where}: keyval.public is missing`);
    }
    if (dict.keyval.public === '' && typeof dict.keyval.certificate !== 'string') {
      throw new EvidentError('BAD_KEY', `${where}: keyval.public is empty (give the public key, or a certificate in keyval.certificate)`);
    }
    let publicValue: string;
    try {
      publicValue = publicValueOf(dict);
    } catch (e) {
      throw new EvidentError('BAD_KEY', `${where}: keyval.certificate is not a PEM certificate (${(e as Error).message})`);
    }
    const keyObject = scheme === 'ed25519' ? ed25519FromHex(publicValue, where) : publicFromPem(publicValue, where);
    // in-toto-golang labels every ECDSA key ecdsa-sha2-nistp256 and hashes by the curve: a P-384 or P-521 key so labelled is its
    if (!(scheme === 'ecdsa-sha2-nistp256' && GOLANG_LABELLED_CURVES.has(String(namedCurveOf(keyObject))))) {
      checkSchemeMatchesKey(keyObject, scheme, where);
    }
    return new PublicKey(keyObject, scheme, publicValue, computeKeyid({ keytype: dict.keytype, scheme, keyval: dict.keyval }));
  }

  /**
   * From a Node key object. `pemText` is the PEM exactly as a file held it, when there was a file: the
   * reference keeps that text (trailing whitespace trimmed) as `keyval.public`, so the keyid follows it.
   */
  static fromKeyObject(keyObject: KeyObject, options: { scheme?: Scheme; pemText?: string } = {}): PublicKey {
    const publicObject = keyObject.type === 'private' ? createPublicKey(keyObject) : keyObject;
    const scheme = options.scheme ?? defaultScheme(publicObject);
    checkSchemeMatchesKey(publicObject, scheme, 'key');
    const publicValue =
      scheme === 'ed25519'
        ? ed25519Hex(publicObject)
        : (options.pemText ?? (publicObject.export({ type: 'spki', format: 'pem' }) as string)).trimEnd();
    const keytype = keytypeOf(scheme);
    return new PublicKey(publicObject, scheme, publicValue, computeKeyid({ keytype, scheme, keyval: { public: publicValue } }));
  }

  get keytype(): string {
    return keytypeOf(this.scheme);
  }

  /** The dictionary a layout stores for this key (`keys[keyid]`), as the reference writes it. */
  toDict(): KeyDict {
    return {
      keytype: this.keytype,
      scheme: this.scheme,
      keyid: this.keyid,
      keyid_hash_algorithms: [...KEYID_HASH_ALGORITHMS],
      keyval: { public: this.publicValue },
    };
  }

  /** Checks a hex signature (the reference's encoding) over `data`. Malformed signatures are simply invalid. */
  verify(data: Uint8Array, signatureHex: string): boolean {
    if (!/^(?:[0-9a-f]{2})+$/i.test(signatureHex)) return false;
    return this.verifyRaw(data, Buffer.from(signatureHex, 'hex'));
  }

  /** Checks raw signature bytes (DSSE carries them base64-encoded). */
  verifyRaw(data: Uint8Array, signature: Uint8Array): boolean {
    try {
      return nodeVerify(
        digestOf(this.scheme, this.keyObject),
        data,
        { key: this.keyObject, ...paddingOf(this.scheme, 'verify') },
        signature,
      );
    } catch {
      return false;
    }
  }
}

/** A signing key with its public half. */
export class PrivateKey {
  readonly publicKey: PublicKey;

  /**
   * `publicKey` is given when the key file states its public half (a securesystemslib JSON key), whose
   * exact text fixes the keyid; it must belong to the private key.
   */
  constructor(
    readonly keyObject: KeyObject,
    options: { scheme?: Scheme; publicKey?: PublicKey } = {},
  ) {
    if (keyObject.type !== 'private') throw new EvidentError('BAD_KEY', 'key: not a private key');
    const derived = PublicKey.fromKeyObject(keyObject, { scheme: options.scheme ?? options.publicKey?.scheme });
    if (options.publicKey && !sameKey(options.publicKey.keyObject, derived.keyObject)) {
      throw new EvidentError('BAD_KEY', 'key: the public key in the file does not belong to its private key');
    }
    this.publicKey = options.publicKey ?? derived;
  }

  get keyid(): string {
    return this.publicKey.keyid;
  }

  get scheme(): Scheme {
    return this.publicKey.scheme;
  }

  /** Signs `data` and returns the signature hex-encoded, as securesystemslib does. */
  sign(data: Uint8Array): string {
    return Buffer.from(this.signRaw(data)).toString('hex');
  }

  signRaw(data: Uint8Array): Buffer {
    return nodeSign(digestOf(this.scheme, this.keyObject), data, { key: this.keyObject, ...paddingOf(this.scheme, 'sign') });
  }
}

function sameKey(a: KeyObject, b: KeyObject): boolean {
  return keyFingerprint(a) === keyFingerprint(b);
}

/**
 * PublicKey.fingerprint of any public key object: SHA-256 of its SubjectPublicKeyInfo as rebuilt from its
 * JWK, because OpenSSL exports a key in the form it was read (a compressed EC point stays compressed),
 * while the JWK holds only the numbers.
 */
export function keyFingerprint(key: KeyObject): string {
  const normal = createPublicKey({ key: key.export({ format: 'jwk' }), format: 'jwk' });
  return createHash('sha256')
    .update(normal.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/** The larger curves in-toto-golang writes as `ecdsa-sha2-nistp256` (it hashes by the curve, not the label). */
const GOLANG_LABELLED_CURVES: ReadonlySet<string> = new Set(['secp384r1', 'secp521r1']);

/**
 * ECDSA hashes by the key's curve, as securesystemslib's schemes say (nistp521 with SHA-512) and in-toto-golang
 * (go-securesystemslib) does whatever the label.
 */
function digestOf(scheme: Scheme, key: KeyObject): string | null {
  if (scheme === 'ed25519') return null;
  if (scheme.startsWith('ecdsa')) {
    const curve = namedCurveOf(key);
    return curve !== undefined ? CURVE_HASH[curve] : 'sha256';
  }
  return 'sha256';
}

function paddingOf(scheme: Scheme, use: 'sign' | 'verify'): { padding?: number; saltLength?: number; dsaEncoding?: 'der' } {
  if (scheme === 'rsassa-pss-sha256') {
    // securesystemslib signs with a digest-length salt and verifies with any salt length
    return { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: use === 'sign' ? 32 : constants.RSA_PSS_SALTLEN_AUTO };
  }
  if (scheme.startsWith('ecdsa')) return { dsaEncoding: 'der' };
  return {};
}

export function defaultScheme(key: KeyObject): Scheme {
  switch (key.asymmetricKeyType) {
    case 'ed25519':
      return 'ed25519';
    case 'rsa':
      return 'rsassa-pss-sha256';
    case 'ec': {
      const curve = namedCurveOf(key);
      if (curve === 'prime256v1') return 'ecdsa-sha2-nistp256';
      if (curve === 'secp384r1') return 'ecdsa-sha2-nistp384';
      if (curve === 'secp521r1') return 'ecdsa-sha2-nistp521';
      throw new EvidentError('BAD_KEY', `key: unsupported ECDSA curve ${describeCurve(key)} (use P-256, P-384 or P-521)`);
    }
    default:
      throw new EvidentError('BAD_KEY', `key: unsupported key type ${String(key.asymmetricKeyType)} (use ed25519, ecdsa or rsa)`);
  }
}

function checkSchemeMatchesKey(key: KeyObject, scheme: Scheme, where: string): void {
  if (defaultScheme(key) !== scheme) {
    throw new EvidentError('BAD_KEY', `${where}: a ${describe(key)} key cannot use scheme '${scheme}'`);
  }
  if (scheme === 'rsassa-pss-sha256' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
    throw new EvidentError('BAD_KEY', `${where}: RSA keys must have at least 2048 bits (found ${key.asymmetricKeyDetails?.modulusLength})`);
  }
}

function describe(key: KeyObject): string {
  return key.asymmetricKeyType === 'ec' ? `ECDSA ${describeCurve(key)}` : String(key.asymmetricKeyType);
}

function ed25519FromHex(hex: string, where: string): KeyObject {
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new EvidentError('BAD_KEY', `${where}: an ed25519 public key is 64 lowercase hex characters`);
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(hex, 'hex').toString('base64url') }, format: 'jwk' });
}

export function ed25519PrivateFromHex(hex: string, where: string): KeyObject {
  // securesystemslib keeps the 32-byte seed; some writers append the public half (64 bytes)
  if (!/^[0-9a-f]{64}(?:[0-9a-f]{64})?$/.test(hex))
    throw new EvidentError('BAD_KEY', `${where}: an ed25519 private key is 64 hex characters`);
  const seed = Buffer.from(hex.slice(0, 64), 'hex');
  return createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

function ed25519Hex(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' });
  return Buffer.from(jwk.x as string, 'base64url').toString('hex');
}

function publicFromPem(pem: string, where: string): KeyObject {
  try {
    const key = createPublicKey({ key: pem, format: 'pem' });
    return key;
  } catch (e) {
    throw new EvidentError('BAD_KEY', `${where}: keyval.public is not a PEM public key (${(e as Error).message})`);
  }
}
