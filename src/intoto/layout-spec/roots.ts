import { X509Certificate } from 'node:crypto';
import type { KeyDict } from '../../crypto/key-dict.js';
import { PublicKey } from '../../crypto/keys.js';
import { timestampAuthorityProblem } from '../models/timestamp-authorities.js';

/**
 * The CA certificates of a PEM bundle as in-toto-golang's `rootcas` entries: the key dict of the
 * certificate's public key (so the keyid is computed as for any key, as in-toto-golang does) with the
 * certificate in `keyval.certificate`. Returns a problem string when the bundle is unusable.
 */
export function rootEntries(pemText: string): KeyDict[] | string {
  return caEntries(pemText, (cert) => (cert.ca ? undefined : 'is not a CA certificate'));
}

/**
 * As rootEntries, for a layout's `timestampauthorities`: every certificate of the bundle (the TSA's root,
 * and its intermediates if the file holds them) must be a CA that may issue a TSA's certificate.
 */
export function timestampAuthorityEntries(pemText: string): KeyDict[] | string {
  return caEntries(pemText, timestampAuthorityProblem);
}

function caEntries(pemText: string, problemOf: (cert: X509Certificate) => string | undefined): KeyDict[] | string {
  const blocks = pemText.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) return 'holds no PEM certificate (-----BEGIN CERTIFICATE-----)';
  const entries: KeyDict[] = [];
  for (const [i, block] of blocks.entries()) {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(block);
    } catch (e) {
      return `certificate ${i + 1} cannot be parsed (${(e as Error).message})`;
    }
    const problem = problemOf(cert);
    if (problem !== undefined) return `certificate ${i + 1} (${cert.subject.replace(/\n/g, ', ')}) ${problem}`;
    let key: PublicKey;
    try {
      // parsing the certificate does not decode its key: a point off the curve, or an unsupported type, shows here
      key = PublicKey.fromKeyObject(cert.publicKey);
    } catch (e) {
      return `certificate ${i + 1} has an unusable public key (${(e as Error).message})`;
    }
    const dict = key.toDict();
    entries.push({ ...dict, keyval: { ...dict.keyval, certificate: cert.toString() } });
  }
  return entries;
}
