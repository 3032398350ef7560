import { dictCertificates } from '../../crypto/identity-cache.js';
import type { KeyDict } from '../../crypto/key-dict.js';
import { parseCertificatesPem, type X509Certificate } from '../../crypto/x509/index.js';

/**
 * The certificate of a CA entry of a layout (`rootcas`, `intermediatecas`, `timestampauthorities`; checked
 * when the layout was parsed), parsed once per dict however many checks ask (crypto/identity-cache.ts).
 */
export function certificateOf(dict: KeyDict): X509Certificate {
  return dictCertificates.get(dict, (d) => parseCertificatesPem(d.keyval.certificate ?? '')[0]!);
}
