import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { parseCertificatesPem } from '../crypto/x509/pem.js';
import { EvidentError } from '../errors.js';
import type { StoreClientOptions } from './client.js';
import { spiffeServerIdentity } from './svid-tls.js';

type ClientTls = NonNullable<StoreClientOptions['tls']>;

/**
 * Trust in an https store by the CAs the user names (`--store-ca FILE`), in place of the system's CAs
 * (or, with an X509-SVID of its own, of the Workload API's bundles): the way for a deployer outside the
 * identity plane to reach a store serving its X509-SVID, given the trust bundle `evident server bundle
 * show` prints. A certificate naming a SPIFFE ID is accepted for its chain alone, as svidTls does (it
 * names a workload, not a host); any other certificate must also name the host, as HTTPS checks it.
 *
 * @throws EvidentError BAD_INPUT when the file holds no PEM certificate
 */
export function withStoreCa(pem: string, file: string, tls: ClientTls = {}): ClientTls {
  try {
    parseCertificatesPem(pem);
  } catch (e) {
    throw new EvidentError('BAD_INPUT', `--store-ca: ${(e as Error).message}`, { file });
  }
  return {
    ...tls,
    ca: pem,
    checkServerIdentity: (host: string, cert: PeerCertificate) =>
      cert.subjectaltname?.includes('URI:spiffe://') === true ? spiffeServerIdentity(host, cert) : checkServerIdentity(host, cert),
  };
}
