import { createPrivateKey, createPublicKey, KeyObject, type webcrypto } from 'node:crypto';
import { SpiffeError, type SpiffeModule } from '../errors.js';
import { pemBlocks } from '../../crypto/x509/pem.js';
import { looksLikePem } from './certs.js';

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
