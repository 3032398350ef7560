import { PrivateKey } from '../../crypto/keys.js';
import { CertificateSigner } from '../../crypto/signer.js';
import { certificatesToPem } from '../../crypto/x509/pem.js';
import type { X509Svid } from './svid.js';

/**
 * A metadata signer backed by an X509-SVID: signs with the SVID's key, carries the chain (leaf first) in
 * each signature, and refuses to sign once the SVID has expired. Which earlier SVIDs count as the same
 * signer is `svidIdentity`'s (signer-identity.ts).
 */
export function svidSigner(svid: X509Svid, now?: () => Date): CertificateSigner {
  return new CertificateSigner(new PrivateKey(svid.privateKey), certificatesToPem(svid.certificates), svid.expiresAt, now);
}
