import { X509Certificate as NodeX509Certificate } from 'node:crypto';
import type { X509Certificate } from './x509.js';

const nodeCerts = new WeakMap<X509Certificate, NodeX509Certificate>();

/** OpenSSL's view of a certificate, for name and signature checks (cached: parsing is not free). */
export function openssl(cert: X509Certificate): NodeX509Certificate {
  let n = nodeCerts.get(cert);
  if (n === undefined) {
    n = new NodeX509Certificate(Buffer.from(cert.rawData));
    nodeCerts.set(cert, n);
  }
  return n;
}
