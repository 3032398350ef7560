import { randomBytes, sign, webcrypto } from 'node:crypto';
import 'reflect-metadata';
import { AsnConvert, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes, OctetString } from '@peculiar/asn1-schema';
import * as asn1 from '@peculiar/asn1-x509';
import * as x509 from '@peculiar/x509';
import type { CaKeyType, SigningKey } from './keys.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** A positive, random 128-bit serial number (hex), as RFC 5280 asks. */
export function randomSerial(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x01; // positive and never a shorter encoding
  return b.toString('hex');
}

export interface CaCertParams {
  trustDomain: string;
  key: SigningKey;
  notBefore: Date;
  notAfter: Date;
  /** Signs as this upstream CA instead of self-signing. */
  upstream?: { cert: x509.X509Certificate; key: SigningKey };
}

/** A CA certificate for the trust domain: self-signed root, or an intermediate under an upstream CA. */
export async function createCaCert(p: CaCertParams): Promise<x509.X509Certificate> {
  const serialNumber = randomSerial();
  const name = `CN=evident CA ${serialNumber.slice(0, 12)}, O=evident`;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(true, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `spiffe://${p.trustDomain}` }], false),
    await x509.SubjectKeyIdentifierExtension.create(p.key.publicKey),
  ];
  if (p.upstream === undefined) {
    return x509.X509CertificateGenerator.createSelfSigned({
      serialNumber, name, notBefore: p.notBefore, notAfter: p.notAfter, signingAlgorithm: p.key.certAlgorithm,
      keys: { privateKey: p.key.privateKey, publicKey: p.key.publicKey }, extensions,
    });
  }
  extensions.push(await x509.AuthorityKeyIdentifierExtension.create(p.upstream.cert));
  return x509.X509CertificateGenerator.create({
    serialNumber, subject: name, issuer: p.upstream.cert.subject, notBefore: p.notBefore, notAfter: p.notAfter,
    signingAlgorithm: p.upstream.key.certAlgorithm, publicKey: p.key.publicKey, signingKey: p.upstream.key.privateKey, extensions,
  });
}

/** Signature algorithm identifiers and digests for the CA key types (RFC 5758 / RFC 4055). */
const SIG_ALGS: Record<CaKeyType, { oid: string; hash: string; nullParams: boolean }> = {
  'ec-p256': { oid: '1.2.840.10045.4.3.2', hash: 'sha256', nullParams: false },
  'ec-p384': { oid: '1.2.840.10045.4.3.3', hash: 'sha384', nullParams: false },
  'rsa-2048': { oid: '1.2.840.113549.1.1.11', hash: 'sha256', nullParams: true },
};

/**
 * Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue } with the TBS kept as
 * the already-encoded bytes that were signed, so it is not encoded a second time.
 */
class SignedCertificate {
  tbs: ArrayBuffer = new ArrayBuffer(0);
  signatureAlgorithm = new asn1.AlgorithmIdentifier();
  signatureValue: ArrayBuffer = new ArrayBuffer(0);
}
AsnProp({ type: AsnPropTypes.Any })(SignedCertificate.prototype, 'tbs');
AsnProp({ type: asn1.AlgorithmIdentifier })(SignedCertificate.prototype, 'signatureAlgorithm');
AsnProp({ type: AsnPropTypes.BitString })(SignedCertificate.prototype, 'signatureValue');
AsnType({ type: AsnTypeTypes.Sequence })(SignedCertificate);

let leafConstants: asn1.Extension[] | undefined;

/** The extensions every leaf has: basicConstraints cA=false, KU digitalSignature, EKU server+client. */
function leafConstantExtensions(): asn1.Extension[] {
  leafConstants ??= [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth], false),
  ].map((e) => AsnConvert.parse(e.rawData, asn1.Extension));
  return leafConstants;
}

export interface LeafParams {
  spiffeId: string;
  /** SPKI DER of the key the SVID is for. */
  publicKey: Uint8Array;
  dnsNames: string[];
  notBefore: Date;
  notAfter: Date;
}

/**
 * Signs X.509-SVID leaves for one CA, exactly as DESIGN.md §3 says: one URI SAN (the SPIFFE ID; DNS
 * names may follow), cA false, key usage critical digitalSignature only, EKU serverAuth + clientAuth.
 *
 * Issuing is the server's hot path, so the parts every leaf shares (issuer name, constant extensions,
 * authority key id) are encoded once per CA with @peculiar/asn1-x509, and the TBS is signed with
 * node:crypto directly; X509CertificateGenerator re-parses all of those on every call (3x slower).
 */
export class LeafSigner {
  private readonly issuer: asn1.Name;
  private readonly akid: asn1.Extension;
  private readonly sigAlg: asn1.AlgorithmIdentifier;
  private readonly hash: string;
  private readonly defaultSubject = AsnConvert.parse(new x509.Name('O=evident').toArrayBuffer(), asn1.Name);

  private constructor(caDer: Uint8Array, private readonly key: SigningKey, akid: x509.AuthorityKeyIdentifierExtension) {
    this.issuer = AsnConvert.parse(caDer, asn1.Certificate).tbsCertificate.subject;
    this.akid = AsnConvert.parse(akid.rawData, asn1.Extension);
    const alg = SIG_ALGS[key.type];
    this.sigAlg = new asn1.AlgorithmIdentifier({ algorithm: alg.oid, ...(alg.nullParams ? { parameters: null } : {}) });
    this.hash = alg.hash;
  }

  static async create(caDer: Uint8Array, key: SigningKey): Promise<LeafSigner> {
    const cert = new x509.X509Certificate(caDer);
    return new LeafSigner(caDer, key, await x509.AuthorityKeyIdentifierExtension.create(cert));
  }

  /** The DER of a new leaf and its serial (hex). Throws on a public key that is not SPKI DER. */
  sign(p: LeafParams): { der: Buffer; serial: string } {
    const names = [
      new asn1.GeneralName({ uniformResourceIdentifier: p.spiffeId }),
      ...p.dnsNames.map((d) => new asn1.GeneralName({ dNSName: d })),
    ];
    const san = new asn1.Extension({
      extnID: asn1.id_ce_subjectAltName,
      critical: false,
      extnValue: new OctetString(AsnConvert.serialize(new asn1.SubjectAlternativeName(names))),
    });
    const subject = p.dnsNames.length > 0 ? AsnConvert.parse(new x509.Name(`CN=${p.dnsNames[0]}, O=evident`).toArrayBuffer(), asn1.Name) : this.defaultSubject;
    const serial = randomSerial();
    const tbs = new asn1.TBSCertificate({
      version: asn1.Version.v3,
      serialNumber: Uint8Array.from(Buffer.from(serial, 'hex')).buffer,
      signature: this.sigAlg,
      issuer: this.issuer,
      subject,
      validity: new asn1.Validity({ notBefore: p.notBefore, notAfter: p.notAfter }),
      subjectPublicKeyInfo: AsnConvert.parse(p.publicKey, asn1.SubjectPublicKeyInfo),
      extensions: new asn1.Extensions([...leafConstantExtensions(), san, this.akid]),
    });
    const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
    const sig = sign(this.hash, tbsDer, this.key.keyObject);
    const cert = Object.assign(new SignedCertificate(), { tbs: Uint8Array.from(tbsDer).buffer, signatureAlgorithm: this.sigAlg, signatureValue: Uint8Array.from(sig).buffer });
    return { der: Buffer.from(AsnConvert.serialize(cert)), serial };
  }
}

export { x509 };
