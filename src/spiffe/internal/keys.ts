import { createPrivateKey, createPublicKey, KeyObject, webcrypto } from 'node:crypto';
import { SpiffeError, type SpiffeModule } from '../errors.js';
import { looksLikePem, pemBlocks } from './certs.js';

/** A key as either API hands it out; the issuing helpers accept both. */
export type AnyKey = KeyObject | webcrypto.CryptoKey;

export function toKeyObject(key: AnyKey): KeyObject {
  return key instanceof KeyObject ? key : KeyObject.from(key);
}

/** An unencrypted PKCS#8 private key, DER or PEM (`PRIVATE KEY`), as the Workload API and go-spiffe require. */
export function parsePkcs8(data: Uint8Array | string, module: SpiffeModule): KeyObject {
  let der: Buffer;
  if (looksLikePem(data)) {
    const text = typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
    const blocks = pemBlocks(text).filter((b) => b.type.endsWith('PRIVATE KEY'));
    if (blocks.length !== 1 || blocks[0]?.type !== 'PRIVATE KEY') {
      throw new SpiffeError(module, 'BAD_KEY', 'expected exactly one unencrypted PKCS#8 "PRIVATE KEY" PEM block');
    }
    der = blocks[0].der;
  } else {
    der = Buffer.from(data as Uint8Array);
  }
  if (der.length === 0) throw new SpiffeError(module, 'BAD_KEY', 'private key is empty');
  try {
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } catch (e) {
    throw new SpiffeError(module, 'BAD_KEY', 'unable to parse PKCS#8 private key', { cause: e });
  }
}

export function spkiDer(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ type: 'spki', format: 'der' });
}

const CURVES: Record<string, { curve: string; hash: string }> = {
  prime256v1: { curve: 'P-256', hash: 'SHA-256' },
  secp384r1: { curve: 'P-384', hash: 'SHA-384' },
  secp521r1: { curve: 'P-521', hash: 'SHA-512' },
};

/** WebCrypto parameters to sign with a key (used by @peculiar/x509), from the key's own type. */
export function signingParams(key: KeyObject): { importAlg: webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams | webcrypto.Algorithm; signAlg: webcrypto.Algorithm & { hash?: string } } {
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const c = CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''];
      if (c === undefined) throw new SpiffeError('x509svid', 'BAD_KEY', `unsupported curve ${key.asymmetricKeyDetails?.namedCurve ?? '?'}`);
      return { importAlg: { name: 'ECDSA', namedCurve: c.curve }, signAlg: { name: 'ECDSA', hash: c.hash } };
    }
    case 'rsa':
      return { importAlg: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, signAlg: { name: 'RSASSA-PKCS1-v1_5' } };
    case 'ed25519':
      return { importAlg: { name: 'Ed25519' }, signAlg: { name: 'Ed25519' } };
    default:
      throw new SpiffeError('x509svid', 'BAD_KEY', `unsupported key type ${key.asymmetricKeyType ?? '?'}`);
  }
}

/** A private key as a WebCrypto signing key, whatever form it came in. */
export async function toSigningCryptoKey(key: AnyKey): Promise<{ key: webcrypto.CryptoKey; signAlg: webcrypto.Algorithm }> {
  const obj = toKeyObject(key);
  if (obj.type !== 'private') throw new SpiffeError('x509svid', 'BAD_KEY', 'a private key is needed to sign');
  const { importAlg, signAlg } = signingParams(obj);
  const der = obj.export({ type: 'pkcs8', format: 'der' });
  const cryptoKey = await webcrypto.subtle.importKey('pkcs8', der, importAlg, false, ['sign']);
  return { key: cryptoKey, signAlg };
}
