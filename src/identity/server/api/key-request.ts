import { canonicalSpki } from '../../../crypto/spki.js';
import { badInput } from '../../../errors.js';
import { Pkcs10CertificateRequest, X509_CRYPTO } from '../../../crypto/x509/x509.js';
import type { KeyRequest } from '../../proto/index.js';

/**
 * The SPKI DER of the key an SVID is requested for: a bare public key, or a CSR whose self-signature
 * must verify (proof the requester holds the private key). Anything the CSR asks for besides its key
 * (subject, SANs) is ignored: the server decides what an SVID says.
 */
export async function spkiFromKeyRequest(req: KeyRequest | null | undefined): Promise<Buffer> {
  if (req?.public_key && req.public_key.length > 0) {
    try {
      // a real key (a point on its curve), as canonical DER: what the certificate will hold
      return canonicalSpki(req.public_key);
    } catch (e) {
      throw badInput(`public_key is not an SPKI DER public key: ${(e as Error).message}`);
    }
  }
  if (req?.csr && req.csr.length > 0) {
    let csr: Pkcs10CertificateRequest;
    try {
      csr = new Pkcs10CertificateRequest(req.csr);
    } catch (e) {
      throw badInput(`csr is not a PKCS#10 DER request: ${(e as Error).message}`);
    }
    if (!(await csr.verify(X509_CRYPTO).catch(() => false))) throw badInput('csr signature does not verify');
    return Buffer.from(csr.publicKey.rawData);
  }
  throw badInput('a public_key or a csr is required');
}
