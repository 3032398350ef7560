import type { X509Certificate } from '../../../crypto/x509/x509.js';
import { SpiffeId, TrustDomain } from '../../../spiffe/spiffeid/index.js';
import { createCertificate, KeyUsageFlags, PreparedIssuer, randomSerial } from '../../../spiffe/x509svid/index.js';
import type { SigningKey } from './keys.js';

/**
 * What the server's certificates say (docs/ARCHITECTURE.md, file formats): its CA certificates and the
 * X509-SVIDs it issues. How a certificate is built and signed is src/spiffe/x509svid/issue.ts's business.
 */
export interface CaCertParams {
  trustDomain: string;
  key: SigningKey;
  notBefore: Date;
  notAfter: Date;
  /** Signs as this upstream CA instead of self-signing. */
  upstream?: { cert: X509Certificate; key: SigningKey };
}

/**
 * A CA certificate for the trust domain, self-signed root or intermediate under an upstream CA:
 * basicConstraints cA (critical), keyCertSign + cRLSign (critical), the URI SAN `spiffe://<td>`, its own
 * key identifier, and the upstream's key identifier when there is an upstream (a root's would be its own).
 */
export async function createCaCert(p: CaCertParams): Promise<X509Certificate> {
  const serialNumber = randomSerial();
  return createCertificate({
    subject: `CN=evident CA ${serialNumber.slice(0, 12)}, O=evident`,
    serialNumber,
    publicKey: p.key.keyObject,
    ...(p.upstream === undefined
      ? { selfSignKey: p.key.keyObject }
      : { issuer: { certificate: p.upstream.cert, privateKey: p.upstream.key.keyObject } }),
    notBefore: p.notBefore,
    notAfter: p.notAfter,
    uris: [TrustDomain.parse(p.trustDomain).idString()],
    ca: true,
    keyUsages: KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign,
    authorityKeyIdentifier: p.upstream !== undefined,
  });
}

export interface LeafParams {
  spiffeId: SpiffeId;
  /** SPKI DER of the key the SVID is for. */
  publicKey: Uint8Array;
  dnsNames: readonly string[];
  /** The issuing instant (the server's clock); the real time by default. */
  now?: Date;
  notAfter: Date;
}

/**
 * Signs X509-SVID leaves for one CA: one URI SAN (the SPIFFE ID; DNS names may follow), cA false, key
 * usage critical digitalSignature only, EKU serverAuth + clientAuth, the CA's key identifier; the subject
 * `O=evident`, or `CN=<first DNS name>, O=evident`. Issuing is the server's hot path: the CA is prepared once.
 */
export class LeafSigner {
  private constructor(private readonly issuer: PreparedIssuer) {}

  static forCa(cert: X509Certificate, key: SigningKey): LeafSigner {
    return new LeafSigner(PreparedIssuer.of({ certificate: cert, privateKey: key.keyObject }));
  }

  /** The DER of a new leaf and its serial (hex). Throws on a public key that is not SPKI DER, or an ID that is not a SPIFFE ID. */
  sign(p: LeafParams): { der: Buffer; serial: string } {
    const leaf = this.issuer.issueX509Svid({
      id: p.spiffeId,
      publicKey: p.publicKey,
      subject: p.dnsNames.length > 0 ? `CN=${p.dnsNames[0]}, O=evident` : 'O=evident',
      dnsNames: p.dnsNames,
      now: p.now,
      notAfter: p.notAfter,
      keyUsages: KeyUsageFlags.digitalSignature,
      subjectKeyIdentifier: false,
    });
    return { der: leaf.der, serial: leaf.serialNumber };
  }
}
