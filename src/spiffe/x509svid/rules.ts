import {
  BasicConstraintsExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  SubjectAlternativeNameExtension,
  type X509Certificate,
} from '../../crypto/x509/x509.js';
import { isCa } from '../../crypto/x509/chain.js';
import type { EvidentErrorCode } from '../../errors.js';
import { SpiffeId } from '../spiffeid/spiffe-id.js';
import { X509SvidError } from './errors.js';

/** Every URI SAN of a certificate, SPIFFE or not (the standard counts them all). */
export function uriSans(cert: X509Certificate): string[] {
  const san = cert.getExtension(SubjectAlternativeNameExtension);
  return san === null ? [] : san.names.items.filter((n) => n.type === 'url').map((n) => n.value);
}

/** The SPIFFE ID of an X509-SVID: its one and only URI SAN (X509-SVID §2). */
export function idFromCert(cert: X509Certificate, code: EvidentErrorCode): SpiffeId {
  const uris = uriSans(cert);
  if (uris.length === 0) throw new X509SvidError('NO_URI_SAN', 'certificate contains no URI SAN', { code });
  if (uris.length > 1) throw new X509SvidError('MULTIPLE_URI_SANS', 'certificate contains more than one URI SAN', { code });
  try {
    return SpiffeId.parse(uris[0] ?? '');
  } catch (e) {
    throw new X509SvidError('BAD_SPIFFE_ID', `unable to parse ID: ${(e as Error).message}`, { code, cause: e });
  }
}

export function pathLength(cert: X509Certificate): number | undefined {
  return cert.getExtension(BasicConstraintsExtension)?.pathLength;
}

function keyUsages(cert: X509Certificate): number | undefined {
  return cert.getExtension(KeyUsagesExtension)?.usages;
}

/** X509-SVID §4.1, §4.3: the leaf is not a CA, signs (digitalSignature) and does not sign certs or CRLs. */
export function checkLeaf(leaf: X509Certificate, code: EvidentErrorCode): void {
  if (isCa(leaf)) throw new X509SvidError('LEAF_IS_CA', 'leaf is a CA', { code });
  const usages = keyUsages(leaf) ?? 0;
  if ((usages & KeyUsageFlags.keyCertSign) !== 0) {
    throw new X509SvidError('LEAF_HAS_KEY_CERT_SIGN', 'leaf has keyCertSign key usage', { code });
  }
  if ((usages & KeyUsageFlags.cRLSign) !== 0) throw new X509SvidError('LEAF_HAS_CRL_SIGN', 'leaf has cRLSign key usage', { code });
  if ((usages & KeyUsageFlags.digitalSignature) === 0) {
    throw new X509SvidError('LEAF_MISSING_DIGITAL_SIGNATURE', 'leaf lacks digitalSignature key usage', { code });
  }
}

/** X509-SVID §4.1, §4.3: every certificate above the leaf is a CA allowed to sign certificates. */
export function checkIntermediates(intermediates: readonly X509Certificate[], code: EvidentErrorCode): void {
  intermediates.forEach((cert, i) => {
    const which = `intermediate #${i + 1} (${cert.subject})`;
    if (!isCa(cert)) throw new X509SvidError('INTERMEDIATE_NOT_CA', `${which} is not a CA`, { code });
    const usages = keyUsages(cert);
    if (usages !== undefined && (usages & KeyUsageFlags.keyCertSign) === 0) {
      throw new X509SvidError('INTERMEDIATE_MISSING_KEY_CERT_SIGN', `${which} lacks keyCertSign key usage`, { code });
    }
  });
}

/** A certificate's validity window must contain `time`. */
export function checkValidity(cert: X509Certificate, which: string, time: Date, code: EvidentErrorCode): void {
  if (time.getTime() > cert.notAfter.getTime()) {
    throw new X509SvidError('CERT_EXPIRED', `${which} expired at ${cert.notAfter.toISOString()}`, { code });
  }
  if (time.getTime() < cert.notBefore.getTime()) {
    throw new X509SvidError('CERT_NOT_YET_VALID', `${which} is not valid before ${cert.notBefore.toISOString()}`, { code });
  }
}
