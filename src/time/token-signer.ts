import { createHash, sign, type KeyObject } from 'node:crypto';
import { asn1, AsnConvert, OctetString, type X509Certificate } from '../crypto/x509/x509.js';
import { hashAlgorithm, signatureScheme, type SignatureScheme } from './algorithms.js';
import { cms, EssCertIdV2, id_aa_signingCertificateV2, IssuerSerial, pkcs9, SigningCertificateV2, tsp } from './asn1.js';
import { context, octetString, sequence, setOrder, smallInteger, tlv } from '../crypto/der.js';
import { objectIdentifier } from '../crypto/object-identifier.js';

/** A time-stamping authority's key and the certificates that name it. */
export interface TsaSigner {
  readonly privateKey: KeyObject;
  /** The TSA certificate first, then the intermediates above it (the root may follow; it is carried as given). */
  readonly chain: readonly X509Certificate[];
}

/**
 * Signs TSTInfos into TimeStampTokens (RFC 3161 §2.4.2: a CMS SignedData, RFC 5652) with one key.
 * Everything that is the same in every token is encoded once, here, with the ASN.1 library: the signer
 * identifier, the algorithms, the certificates, the content-type and signing-certificate-v2 attributes
 * (RFC 5816: ESSCertIDv2 with SHA-256 and the issuer and serial, always present, whether or not the
 * certificates are carried). A token then costs a message digest, one signature and the DER of what
 * changes, written by hand (der.ts).
 */
export class TokenSigner {
  private readonly scheme: SignatureScheme;
  /** SignerInfo's version, sid and digestAlgorithm, encoded one after the other. */
  private readonly signerInfoHead: Buffer;
  private readonly signatureAlgorithm: Buffer;
  /** SignedData's version and digestAlgorithms. */
  private readonly signedDataHead: Buffer;
  /** The certificates as SignedData carries them: [0] IMPLICIT SET OF, sorted as DER sorts a SET OF. */
  private readonly certificates: Buffer;
  private readonly fixedAttributes: readonly Buffer[];

  constructor(private readonly signer: TsaSigner) {
    const leaf = signer.chain[0];
    if (leaf === undefined) throw new Error('a TSA signer needs its certificate');
    this.scheme = signatureScheme(signer.privateKey);
    const tbs = AsnConvert.parse(leaf.rawData, asn1.Certificate).tbsCertificate;
    const sid = encode(
      new cms.SignerIdentifier({
        issuerAndSerialNumber: new cms.IssuerAndSerialNumber({ issuer: tbs.issuer, serialNumber: tbs.serialNumber }),
      }),
    );
    const digest = new cms.DigestAlgorithmIdentifier(hashAlgorithm(this.scheme.digest));
    // CMSVersion v1 for a SignerInfo named by issuer and serial; v3 for a SignedData of other than id-data (RFC 5652 §5.1, §5.3)
    this.signerInfoHead = Buffer.concat([smallInteger(1), sid, encode(digest)]);
    this.signatureAlgorithm = encode(this.scheme.signatureAlgorithm);
    this.signedDataHead = Buffer.concat([smallInteger(3), encode(new cms.DigestAlgorithmIdentifiers([digest]))]);
    this.certificates = context(0, ...setOrder(signer.chain.map((c) => new Uint8Array(c.rawData))));
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

  /** The DER TimeStampToken signing `tstInfo`, the DER of a TSTInfo; with the certificates when `withCertificates`. */
  sign(tstInfo: Uint8Array, withCertificates: boolean): Buffer {
    const digest = createHash(this.scheme.digest).update(tstInfo).digest();
    const messageDigest = sequence(MESSAGE_DIGEST, tlv(0x31, octetString(digest)));
    // the SignerInfo carries the signed attributes as [0] IMPLICIT SET OF; the signature covers them under the SET tag (RFC 5652 §5.4)
    const attributes = setOrder([...this.fixedAttributes, messageDigest]);
    const signature = sign(this.scheme.signDigest, tlv(0x31, ...attributes), this.signer.privateKey);
    const signerInfo = sequence(this.signerInfoHead, context(0, ...attributes), this.signatureAlgorithm, octetString(signature));
    const signedData = sequence(
      this.signedDataHead,
      sequence(ID_CT_TSTINFO, context(0, octetString(tstInfo))),
      ...(withCertificates ? [this.certificates] : []),
      tlv(0x31, signerInfo),
    );
    return sequence(ID_SIGNED_DATA, context(0, signedData));
  }
}

const MESSAGE_DIGEST = objectIdentifier(pkcs9.id_pkcs9_at_messageDigest);
const ID_CT_TSTINFO = objectIdentifier(tsp.id_ct_tstInfo);
const ID_SIGNED_DATA = objectIdentifier(cms.id_signedData);

/** A value of one of the library's schemas, encoded by it. */
function encode(value: object): Buffer {
  return Buffer.from(AsnConvert.serialize(value));
}

/** An Attribute of one value, encoded. */
function attribute(type: string, value: ArrayBuffer): Buffer {
  return encode(new cms.Attribute({ attrType: type, attrValues: [value] }));
}
