import type { X509Certificate } from '../../../crypto/x509/x509.js';
import { SpiffeId, TrustDomain } from '../../../spiffe/spiffeid/index.js';
import type { KeyObject } from 'node:crypto';
import { createCertificate, ExtendedKeyUsage, KeyUsageFlags, PreparedIssuer, randomSerial } from '../../../spiffe/x509svid/index.js';
import type { SigningKey } from './keys.js';

/**
 * What the server's certificates say (docs/ARCHITECTURE.md, file formats): its root, its signing CAs and the
 * X509-SVIDs it issues. How a certificate is built and signed is src/spiffe/x509svid/issue.ts's business.
 */
export interface CaCertParams {
  trustDomain: string;
  key: SigningKey;
  notBefore: Date;
  notAfter: Date;
}

/**
 * The trust domain's own root: self-signed, long-lived, what layouts and agents pin. It signs only the
 * server's signing CAs (never an SVID), so it can stay put while they rotate.
 */
export async function createRootCert(p: CaCertParams): Promise<X509Certificate> {
  return caCertificate(p, 'evident root', undefined);
}

/**
 * A signing CA of the trust domain, an intermediate under `issuer` (its own root or an upstream CA): what
 * signs X509-SVIDs, rotated with overlap.
 */
export async function createCaCert(p: CaCertParams & { issuer: { cert: X509Certificate; key: SigningKey } }): Promise<X509Certificate> {
  return caCertificate(p, 'evident CA', p.issuer);
}

/**
 * basicConstraints cA (critical), keyCertSign + cRLSign (critical), the URI SAN `spiffe://<td>`, its own key
 * identifier, and its issuer's key identifier when it has an issuer (a root's would be its own).
 */
function caCertificate(
  p: CaCertParams,
  name: string,
  issuer: { cert: X509Certificate; key: SigningKey } | undefined,
): Promise<X509Certificate> {
  const serialNumber = randomSerial();
  return createCertificate({
    subject: `CN=${name} ${serialNumber.slice(0, 12)}, O=evident`,
    serialNumber,
    publicKey: p.key.keyObject,
    ...(issuer === undefined
      ? { selfSignKey: p.key.keyObject }
      : { issuer: { certificate: issuer.cert, privateKey: issuer.key.keyObject } }),
    notBefore: p.notBefore,
    notAfter: p.notAfter,
    uris: [TrustDomain.parse(p.trustDomain).idString()],
    ca: true,
    keyUsages: KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign,
    authorityKeyIdentifier: issuer !== undefined,
  });
}

/**
 * The server's time-stamping authority (docs/trusted-time.md): a leaf under the root or the upstream CA, not
 * under a signing CA, so its tokens chain to what the bundle pins and outlive any one signing CA. RFC 3161
 * §2.3 asks for the extended key usage timeStamping alone, critical; key usage digitalSignature (critical);
 * no SAN, as it names no SPIFFE ID.
 */
export async function createTsaCert(p: {
  publicKey: KeyObject;
  issuer: { cert: X509Certificate; key: SigningKey };
  notBefore: Date;
  notAfter: Date;
}): Promise<X509Certificate> {
  return createCertificate({
    subject: 'CN=evident TSA, O=evident',
    publicKey: p.publicKey,
    issuer: { certificate: p.issuer.cert, privateKey: p.issuer.key.keyObject },
    notBefore: p.notBefore,
    notAfter: p.notAfter,
    ca: false,
    keyUsages: KeyUsageFlags.digitalSignature,
    extKeyUsages: [ExtendedKeyUsage.timeStamping],
    extKeyUsageCritical: true,
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
