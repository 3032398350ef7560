import type { X509Certificate } from '../../../crypto/x509/x509.js';
import type { SigningKey } from './keys.js';

/**
 * What signs the server's signing CAs: an upstream CA (upstream.ts), or the trust domain's own root, which
 * the server keeps in its datastore. Layouts and agents pin the authority's roots, never a signing CA, so
 * the signing CAs can rotate under it without anyone noticing.
 */
export interface CaAuthority {
  cert: X509Certificate;
  key: SigningKey;
  /** Certificates sent after the signing CA in every SVID chain (an upstream's intermediates, not the anchor). */
  chain: Buffer[];
}
