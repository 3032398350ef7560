import { createHash, createPrivateKey, createPublicKey, webcrypto, type KeyObject } from 'node:crypto';
import { badInput } from '../../../errors.js';
import { toPem } from '../../../crypto/x509/index.js';
import type { CaKeyType } from './constants.js';
import { describeCurve, namedCurveOf } from '../../../crypto/ec-curve.js';
const subtle = webcrypto.subtle;

interface Algo {
  gen: webcrypto.EcKeyGenParams | webcrypto.RsaHashedKeyGenParams;
  imp: webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams;
  jwtAlg: string;
}

function algoFor(type: CaKeyType): Algo {
  switch (type) {
    case 'ec-p256':
      return { gen: { name: 'ECDSA', namedCurve: 'P-256' }, imp: { name: 'ECDSA', namedCurve: 'P-256' }, jwtAlg: 'ES256' };
    case 'ec-p384':
      return { gen: { name: 'ECDSA', namedCurve: 'P-384' }, imp: { name: 'ECDSA', namedCurve: 'P-384' }, jwtAlg: 'ES384' };
    case 'rsa-2048':
      return {
        gen: { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
        imp: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
        jwtAlg: 'RS256',
      };
  }
}

/** A private signing key the CA holds, in the forms the libraries want. */
export interface SigningKey {
  readonly type: CaKeyType;
  readonly privateKey: webcrypto.CryptoKey;
  readonly publicKey: webcrypto.CryptoKey;
  readonly pkcs8Pem: string;
  /** The same private key for node:crypto's (synchronous, faster) sign: the one certificates are signed with. */
  readonly keyObject: KeyObject;
  readonly jwtAlg: string;
}

export async function generateSigningKey(type: CaKeyType): Promise<SigningKey> {
  const a = algoFor(type);
  const pair = (await subtle.generateKey(a.gen, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const der = Buffer.from(await subtle.exportKey('pkcs8', pair.privateKey));
  const keyObject = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  return { type, privateKey: pair.privateKey, publicKey: pair.publicKey, pkcs8Pem: toPem('PRIVATE KEY', der), keyObject, jwtAlg: a.jwtAlg };
}

/** Loads a PKCS#8 (or SEC1/PKCS#1) PEM private key and works out its type. */
export async function loadSigningKey(pem: string, what = 'CA key'): Promise<SigningKey> {
  let type: CaKeyType;
  let pkcs8: Buffer;
  let spki: Buffer;
  let ko: KeyObject;
  try {
    ko = createPrivateKey(pem);
    type = keyTypeOf(ko);
    pkcs8 = ko.export({ format: 'der', type: 'pkcs8' });
    spki = createPublicKey(ko).export({ format: 'der', type: 'spki' });
  } catch (e) {
    if (e instanceof Error && e.name === 'EvidentError') throw e;
    throw badInput(`${what}: not a private key PEM: ${(e as Error).message}`);
  }
  const a = algoFor(type);
  const privateKey = await subtle.importKey('pkcs8', pkcs8, a.imp, true, ['sign']);
  const publicKey = await subtle.importKey('spki', spki, a.imp, true, ['verify']);
  return { type, privateKey, publicKey, pkcs8Pem: toPem('PRIVATE KEY', pkcs8), keyObject: ko, jwtAlg: a.jwtAlg };
}

/** The CA key type of a key object; other kinds of key are refused. */
export function keyTypeOf(key: KeyObject): CaKeyType {
  const curve = namedCurveOf(key);
  if (curve === 'prime256v1') return 'ec-p256';
  if (curve === 'secp384r1') return 'ec-p384';
  const bits = key.asymmetricKeyType === 'rsa' ? (key.asymmetricKeyDetails?.modulusLength ?? 0) : undefined;
  if (bits !== undefined && bits >= 2048) return 'rsa-2048';
  const what = key.asymmetricKeyType === 'ec' ? describeCurve(key) : (bits ?? '');
  throw badInput(`unsupported CA key (${key.asymmetricKeyType} ${what}): use ECDSA P-256/P-384 or RSA ≥ 2048`);
}

/** A stable key id for a public key: base64url of its SPKI's SHA-256, first 32 characters. */
export function keyIdOf(spkiDer: Uint8Array): string {
  return createHash('sha256').update(spkiDer).digest('base64url').slice(0, 32);
}
