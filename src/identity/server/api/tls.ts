import { generateKeyPairSync } from 'node:crypto';
import type { experimental } from '@grpc/grpc-js';
import { certificatesToPem } from '../../../crypto/x509/index.js';
import { serverIdFor } from '../../proto/index.js';
import type { CaManager } from '../ca/index.js';
import type { Clock } from '../../../util/clock.js';

type CertificateProvider = experimental.CertificateProvider;
type CaListener = experimental.CaCertificateUpdateListener;
type IdListener = experimental.IdentityCertificateUpdateListener;

/**
 * The server's own TLS identity for the agent API: an SVID for `spiffe://td/evident/server`, signed by
 * its CA, renewed at half life and whenever the CA set changes, pushed to grpc-js as a certificate
 * provider so the listening socket picks it up without a restart. The CA list it gives TLS is the
 * bundle's roots, not the signing CAs: grpc-js shows a client certificate to the service only when TLS
 * verified its chain (an agent sends its SVID and the signing CA; with an upstream CA, a signing CA alone
 * is no trust anchor to OpenSSL). PeerAuthenticator then applies the SPIFFE rules.
 */
export class ServerTlsIdentity implements CertificateProvider {
  private identity: { certificate: Buffer; privateKey: Buffer } | undefined;
  private caPem: Buffer = Buffer.alloc(0);
  private notBefore = 0;
  private notAfter = 0;
  private readonly caListeners = new Set<CaListener>();
  private readonly idListeners = new Set<IdListener>();

  constructor(
    private readonly ca: CaManager,
    private readonly clock: Clock,
    private readonly trustDomain: string,
  ) {}

  /** Issues a fresh server certificate and tells grpc-js. */
  async renew(): Promise<void> {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const svid = await this.ca.signX509Svid(serverIdFor(this.trustDomain), publicKey.export({ format: 'der', type: 'spki' }));
    this.identity = {
      certificate: Buffer.from(certificatesToPem(svid.chain)),
      privateKey: Buffer.from(privateKey.export({ format: 'pem', type: 'pkcs8' }) as string),
    };
    this.caPem = Buffer.from(certificatesToPem(this.ca.bundle().x509Authorities));
    this.notBefore = this.clock.now();
    this.notAfter = svid.notAfter;
    for (const l of this.caListeners) l({ caCertificate: this.caPem });
    for (const l of this.idListeners) l(this.identity);
  }

  /** Whether half the certificate's life has passed. */
  needsRenewal(): boolean {
    return this.identity === undefined || this.clock.now() >= this.notBefore + (this.notAfter - this.notBefore) / 2;
  }

  // grpc-js registers its listeners and only then its watcher: answer on the next tick so the
  // first update reaches the watcher too.
  addCaCertificateListener(l: CaListener): void {
    this.caListeners.add(l);
    queueMicrotask(() => this.identity && l({ caCertificate: this.caPem }));
  }
  removeCaCertificateListener(l: CaListener): void {
    this.caListeners.delete(l);
  }
  addIdentityCertificateListener(l: IdListener): void {
    this.idListeners.add(l);
    queueMicrotask(() => this.identity && l(this.identity));
  }
  removeIdentityCertificateListener(l: IdListener): void {
    this.idListeners.delete(l);
  }
}
