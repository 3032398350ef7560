import { createHash, sign, type KeyObject } from 'node:crypto';
import { asn1, AsnConvert, OctetString, type X509Certificate } from '../crypto/x509/x509.js';
import { hashAlgorithm, signatureScheme, type SignatureScheme } from './algorithms.js';
import { cms, EssCertIdV2, id_aa_signingCertificateV2, IssuerSerial, pkcs9, PreEncoded, SigningCertificateV2, tsp } from './asn1.js';
import { MessageDigestAttribute, SignedAttributesSet, SignedDataOut, SignerInfoOut, TimeStampTokenOut } from './asn1-write.js';

/** A time-stamping authority's key and the certificates that name it. */
export interface TsaSigner {
  readonly privateKey: KeyObject;
  /** The TSA certificate first, then the intermediates above it (the root may follow; it is carried as given). */
  readonly chain: readonly X509Certificate[];
}

/**
 * Signs TSTInfos into TimeStampTokens (RFC 3161 §2.4.2: a CMS SignedData, RFC 5652) with one key.
 * Everything that is the same in every token is encoded once, here: the signer identifier, the
 * algorithms, the certificates, the content-type and signing-certificate-v2 attributes (RFC 5816:
 * ESSCertIDv2 with SHA-256 and the issuer and serial, always present, whether or not the certificates
 * are carried). A token then costs a message digest, one signature and the encoding of what changes.
 */
export class TokenSigner {
  private readonly scheme: SignatureScheme;
  private readonly sid: PreEncoded;
  private readonly digestAlgorithm: PreEncoded;
  private readonly digestAlgorithms: PreEncoded;
  private readonly signatureAlgorithm: PreEncoded;
  private readonly certificates: PreEncoded[];
  private readonly fixedAttributes: readonly PreEncoded[];

  constructor(private readonly signer: TsaSigner) {
    const leaf = signer.chain[0];
    if (leaf === undefined) throw new Error('a TSA signer needs its certificate');
    this.scheme = signatureScheme(signer.privateKey);
    const tbs = AsnConvert.parse(leaf.rawData, asn1.Certificate).tbsCertificate;
    this.sid = PreEncoded.of(
      new cms.SignerIdentifier({
        issuerAndSerialNumber: new cms.IssuerAndSerialNumber({ issuer: tbs.issuer, serialNumber: tbs.serialNumber }),
      }),
    );
    const digest = new cms.DigestAlgorithmIdentifier(hashAlgorithm(this.scheme.digest));
    this.digestAlgorithm = PreEncoded.of(digest);
    this.digestAlgorithms = PreEncoded.of(new cms.DigestAlgorithmIdentifiers([digest]));
    this.signatureAlgorithm = PreEncoded.of(this.scheme.signatureAlgorithm);
    // DER sorts a SET OF by the encodings of its members
    this.certificates = signer.chain.map((c) => new PreEncoded(new Uint8Array(c.rawData))).sort((a, b) => Buffer.compare(a.der, b.der));
    const essCertId = new EssCertIdV2({
      certHash: new OctetString(createHash('sha256').update(new Uint8Array(leaf.rawData)).digest()),
      issuerSerial: new IssuerSerial({
        issuer: new asn1.GeneralNames([new asn1.GeneralName({ directoryName: tbs.issuer })]),
        serialNumber: tbs.serialNumber,
      }),
    });
    this.fixedAttributes = [
      attribute(pkcs9.id_pkcs9_at_contentType, AsnConvert.serialize(new pkcs9.ContentType(tsp.id_ct_tstInfo))),
      attribute(id_aa_signingCertificateV2, AsnConvert.serialize(new SigningCertificateV2({ certs: [essCertId] }))),
    ];
  }

  /** The TimeStampToken signing `tstInfo`, the DER of a TSTInfo; with the certificates when `withCertificates`. */
  sign(tstInfo: Uint8Array, withCertificates: boolean): TimeStampTokenOut {
    const digest = createHash(this.scheme.digest).update(tstInfo).digest();
    const messageDigest = PreEncoded.encoded(new MessageDigestAttribute(digest));
    // DER sorts the SET OF attributes by their encodings; the signature covers them in that order
    const signedAttrs = [...this.fixedAttributes, messageDigest].sort((a, b) => Buffer.compare(a.der, b.der));
    const toSign = new Uint8Array(AsnConvert.serialize(new SignedAttributesSet(signedAttrs)));
    const signerInfo = new SignerInfoOut({
      sid: this.sid,
      digestAlgorithm: this.digestAlgorithm,
      signedAttrs,
      signatureAlgorithm: this.signatureAlgorithm,
      signature: new OctetString(sign(this.scheme.signDigest, toSign, this.signer.privateKey)),
    });
    const signedData = new SignedDataOut({
      digestAlgorithms: this.digestAlgorithms,
      encapContentInfo: new cms.EncapsulatedContentInfo({
        eContentType: tsp.id_ct_tstInfo,
        eContent: new cms.EncapsulatedContent({ single: new OctetString(tstInfo) }),
      }),
      ...(withCertificates ? { certificates: this.certificates } : {}),
      signerInfos: [signerInfo],
    });
    return new TimeStampTokenOut({ content: signedData });
  }
}

/** An Attribute of one value, encoded. */
function attribute(type: string, value: ArrayBuffer): PreEncoded {
  return PreEncoded.of(new cms.Attribute({ attrType: type, attrValues: [value] }));
}
