import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { X509Certificate } from '../../crypto/x509/x509.js';
import type { SpiffeId } from '../spiffeid/spiffe-id.js';
import { certificatesToPem } from '../../crypto/x509/pem.js';
import { certsToDer, nodeCert, parseCertificates } from '../internal/certs.js';
import { parsePkcs8 } from '../internal/keys.js';
import { SpiffeError } from '../errors.js';
import { X509SvidError } from './errors.js';
import { checkIntermediates, checkLeaf, idFromCert } from './rules.js';

/** One-getter source of "my" X509-SVID: a file pair on disk or the live Workload API. */
export interface X509SvidSource {
  getX509Svid(): X509Svid;
}

export interface X509SvidParseOptions {
  /** The Workload API's operator hint (`internal`, `external`, …), if any. */
  hint?: string;
}

/**
 * An X509-SVID: the SPIFFE ID, the chain (leaf first) and the private key of the leaf. Valid by
 * construction: the leaf has exactly one URI SAN that is a SPIFFE ID, is not a CA, has digitalSignature
 * and neither keyCertSign nor cRLSign; the intermediates are CAs; the key matches the leaf. Trust
 * (chaining to a bundle, validity in time) is `verify`'s business, not this type's.
 *
 * @example
 * const svid = X509Svid.parse(await readFile('svid.pem'), await readFile('svid.key'));
 * svid.id.toString(); svid.expiresAt;
 */
export class X509Svid implements X509SvidSource {
  readonly certificates: readonly X509Certificate[];

  private constructor(
    readonly id: SpiffeId,
    certificates: readonly X509Certificate[],
    readonly privateKey: KeyObject,
    readonly hint: string,
  ) {
    this.certificates = Object.freeze([...certificates]);
  }

  /**
   * Certificates as PEM or concatenated DER (the Workload API's `x509_svid`), and the key as PKCS#8
   * PEM or DER (`x509_svid_key`). Throws X509SvidError (code BAD_INPUT).
   */
  static parse(certificates: Uint8Array | string, privateKey: Uint8Array | string, options: X509SvidParseOptions = {}): X509Svid {
    let certs: X509Certificate[];
    let key: KeyObject;
    try {
      certs = parseCertificates(certificates, 'x509svid');
      key = parsePkcs8(privateKey, 'x509svid');
    } catch (e) {
      if (e instanceof SpiffeError)
        throw new X509SvidError(e.reason as 'BAD_CERTIFICATE', e.message.replace(/^x509svid: /, ''), { cause: e });
      throw e;
    }
    return X509Svid.fromParts(certs, key, options);
  }

  /** From already-parsed parts; the same rules as `parse`. */
  static fromParts(certificates: readonly X509Certificate[], privateKey: KeyObject, options: X509SvidParseOptions = {}): X509Svid {
    const [leaf, ...intermediates] = certificates;
    if (leaf === undefined) throw new X509SvidError('NO_CERTIFICATES', 'no certificates found');
    const id = idFromCert(leaf, 'BAD_INPUT');
    checkLeaf(leaf, 'BAD_INPUT');
    checkIntermediates(intermediates, 'BAD_INPUT');
    if (privateKey.type !== 'private') throw new X509SvidError('BAD_KEY', 'a private key is required');
    if (!nodeCert(leaf).checkPrivateKey(privateKey)) {
      throw new X509SvidError('KEY_MISMATCH', 'leaf certificate public key does not match the private key');
    }
    return new X509Svid(id, certificates, privateKey, options.hint ?? '');
  }

  /** Reads a PEM (or DER) chain and key from two files, e.g. the `svid.pem`/`svid.key` that `svid fetch --write` makes. */
  static async load(certFile: string, keyFile: string): Promise<X509Svid> {
    const [certs, key] = [await readFile(certFile), await readFile(keyFile)];
    try {
      return X509Svid.parse(certs, key);
    } catch (e) {
      const file = e instanceof X509SvidError && (e.reason === 'BAD_KEY' || e.reason === 'KEY_MISMATCH') ? keyFile : certFile;
      throw e instanceof SpiffeError ? e.inFile(file) : e;
    }
  }

  get leaf(): X509Certificate {
    return this.certificates[0] as X509Certificate;
  }

  get expiresAt(): Date {
    return this.leaf.notAfter;
  }

  /** PEM: the chain as CERTIFICATE blocks, the key as a PKCS#8 PRIVATE KEY block. */
  marshal(): { certificates: string; privateKey: string } {
    return {
      certificates: certificatesToPem(this.certificates),
      privateKey: this.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    };
  }

  /** The Workload API's wire form: concatenated DER chain and PKCS#8 DER key. */
  marshalRaw(): { certificates: Buffer; privateKey: Buffer } {
    return { certificates: certsToDer(this.certificates), privateKey: this.privateKey.export({ type: 'pkcs8', format: 'der' }) };
  }

  getX509Svid(): X509Svid {
    return this;
  }
}
