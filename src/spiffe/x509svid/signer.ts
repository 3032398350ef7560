import { PrivateKey, PublicKey } from '../../crypto/keys.js';
import { CertificateSigner } from '../../crypto/signer.js';
import { certificatesToPem } from '../../crypto/x509/pem.js';
import { nodeCert, parseCertificates } from '../internal/certs.js';
import type { X509BundleSource } from '../bundle/x509-bundle.js';
import type { SpiffeId } from '../spiffeid/spiffe-id.js';
import type { X509Svid } from './svid.js';
import { verify } from './verify.js';

/**
 * A metadata signer backed by an X509-SVID: signs with the SVID's key, carries the chain (leaf first) in
 * each signature, and refuses to sign once the SVID has expired.
 */
export function svidSigner(svid: X509Svid, now?: () => Date): CertificateSigner {
  return new CertificateSigner(new PrivateKey(svid.privateKey), certificatesToPem(svid.certificates), svid.expiresAt, now);
}

/**
 * Whether a signature entry was made by a workload holding `id` under `bundles`: the chain it carries is
 * a valid SVID for that ID now, and the leaf's key verifies the signature. Accepts a preliminary link
 * signed before the workload's SVID rotated.
 */
export function signedBySpiffeId(
  signature: { sig: string; cert?: string },
  signedBytes: Uint8Array,
  id: SpiffeId,
  bundles: X509BundleSource,
): boolean {
  if (signature.cert === undefined) return false;
  try {
    const chain = parseCertificates(signature.cert, 'x509svid');
    if (!verify(chain, bundles).id.equals(id)) return false;
    return PublicKey.fromKeyObject(nodeCert(chain[0]!).publicKey).verify(signedBytes, signature.sig);
  } catch {
    return false;
  }
}
