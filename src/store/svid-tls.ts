import type { PeerCertificate } from 'node:tls';
import { parseCertificateDer } from '../crypto/x509/pem.js';
import type { X509BundleSet } from '../spiffe/bundle/set.js';
import { idFromCert } from '../spiffe/x509svid/rules.js';
import type { X509Svid } from '../spiffe/x509svid/svid.js';
import type { StoreClientOptions } from './client.js';

/**
 * mTLS with the workload's X509-SVID: the client presents its chain and key, and trusts the store when
 * its certificate chains to one of the bundles the Workload API gave (own and federated trust domains)
 * and names a SPIFFE ID, as go-spiffe's tlsconfig.AuthorizeAny does. The host name is not checked: an
 * X509-SVID names a workload, not a host, and the bundle is what vouches for it.
 */
export function svidTls(svid: X509Svid, bundles: X509BundleSet): NonNullable<StoreClientOptions['tls']> {
  const { certificates, privateKey } = svid.marshal();
  return {
    cert: certificates,
    key: privateKey,
    ca: bundles.bundles().map((b) => b.marshal()),
    checkServerIdentity: spiffeServerIdentity,
  };
}

/** The store's certificate names a SPIFFE ID (its chain was checked by the TLS handshake); its host name does not count. */
export function spiffeServerIdentity(_host: string, cert: PeerCertificate): Error | undefined {
  try {
    idFromCert(parseCertificateDer(cert.raw), 'BAD_SIGNATURE');
    return undefined;
  } catch (e) {
    return new Error(`the store's certificate names no SPIFFE ID (${(e as Error).message})`);
  }
}
