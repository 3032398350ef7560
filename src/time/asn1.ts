/**
 * The one place the ASN.1 schemas of time-stamping are imported: RFC 3161 (@peculiar/asn1-tsp), CMS
 * SignedData (@peculiar/asn1-cms) and its PKCS #9 attributes (@peculiar/asn1-pkcs9), and the one
 * structure none of them has, RFC 5035's SigningCertificateV2, declared here with @peculiar/asn1-schema.
 *
 * @peculiar/asn1-tsp 2.6.0 numbers the PKIFailureInfo bits wrongly (its `badDataFormat` is bit 4, RFC
 * 3161 says 5; only `badAlg` is right), so failure bits are set and read through `FAILURE_BITS` below,
 * never through its `PKIFailureInfoFlags` or `toJSON`.
 *
 * What a verifier reads has its own types (asn1-read.ts), where the library's would lose the bytes a
 * signature covers. What a TSA writes per request is DER written by hand (der.ts), from pieces encoded here once.
 */
import { AsnIntegerArrayBufferConverter, AsnProp, AsnPropTypes, OctetString, type IAsnConvertible } from '@peculiar/asn1-schema';
import * as asn1js from 'asn1js';
import { asn1 } from '../crypto/x509/x509.js';

export * as tsp from '@peculiar/asn1-tsp';
export * as cms from '@peculiar/asn1-cms';
export * as pkcs9 from '@peculiar/asn1-pkcs9';

/** RFC 3161 §2.4.2 PKIFailureInfo: each failure's bit number. */
export const FAILURE_BITS = {
  badAlg: 0,
  badRequest: 2,
  badDataFormat: 5,
  timeNotAvailable: 14,
  unacceptedPolicy: 15,
  unacceptedExtension: 16,
  addInfoNotAvailable: 17,
  systemFailure: 25,
} as const;

export type FailureInfo = keyof typeof FAILURE_BITS;

/** id-aa-signingCertificateV2 (RFC 5035 §3). */
export const id_aa_signingCertificateV2 = '1.2.840.113549.1.9.16.2.47';
/** id-kp-timeStamping (RFC 5280 §4.2.1.12). */
export const id_kp_timeStamping = '1.3.6.1.5.5.7.3.8';

/** RFC 5035 IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber } */
export class IssuerSerial {
  issuer = new asn1.GeneralNames();
  serialNumber = new ArrayBuffer(0);
  constructor(params: Partial<IssuerSerial> = {}) {
    Object.assign(this, params);
  }
}
AsnProp({ type: asn1.GeneralNames })(IssuerSerial.prototype, 'issuer');
AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerArrayBufferConverter })(IssuerSerial.prototype, 'serialNumber');

/**
 * RFC 5035 ESSCertIDv2 ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier DEFAULT {id-sha256},
 * certHash OCTET STRING, issuerSerial IssuerSerial OPTIONAL }. DER leaves a default out, so
 * `hashAlgorithm` is absent for SHA-256.
 */
export class EssCertIdV2 {
  hashAlgorithm?: asn1.AlgorithmIdentifier;
  certHash = new OctetString();
  issuerSerial?: IssuerSerial;
  constructor(params: Partial<EssCertIdV2> = {}) {
    Object.assign(this, params);
  }
}
AsnProp({ type: asn1.AlgorithmIdentifier, optional: true })(EssCertIdV2.prototype, 'hashAlgorithm');
AsnProp({ type: OctetString })(EssCertIdV2.prototype, 'certHash');
AsnProp({ type: IssuerSerial, optional: true })(EssCertIdV2.prototype, 'issuerSerial');

/** RFC 5035 SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, policies SEQUENCE OF PolicyInformation OPTIONAL } */
export class SigningCertificateV2 {
  certs: EssCertIdV2[] = [];
  policies?: asn1.PolicyInformation[];
  constructor(params: Partial<SigningCertificateV2> = {}) {
    Object.assign(this, params);
  }
}
AsnProp({ type: EssCertIdV2, repeated: 'sequence' })(SigningCertificateV2.prototype, 'certs');
AsnProp({ type: asn1.PolicyInformation, repeated: 'sequence', optional: true })(SigningCertificateV2.prototype, 'policies');

/**
 * A value the library has already encoded (a certificate), written again as it is: asn1js parses it once,
 * here, and each encoding writes that tag and that content, instead of encoding the value anew.
 */
export class PreEncoded implements IAsnConvertible<asn1js.AsnType> {
  /** The value's encoding, as given (or as read). */
  der: Buffer = Buffer.alloc(0);
  private block: asn1js.AsnType = new asn1js.Null();

  constructor(der?: Uint8Array) {
    if (der === undefined) return;
    const parsed = asn1js.fromBER(der);
    if (parsed.offset === -1 || parsed.offset !== der.byteLength) throw new Error('PreEncoded: not one BER value');
    this.keep(parsed.result);
  }

  /**
   * A value the library has parsed, kept. A new object each time: the library reads every element of a
   * SET OF through one instance and keeps what each call returns.
   */
  fromASN(asn: asn1js.AsnType): this {
    const out = new PreEncoded();
    out.keep(asn);
    return out as this;
  }

  /** Its bytes, and a block that writes its tag and content again. */
  private keep(asn: asn1js.AsnType): void {
    this.der = Buffer.from(asn.valueBeforeDecodeView);
    this.block = rewritten(asn.idBlock.tagClass, asn.idBlock.tagNumber, asn.idBlock.isConstructed, asn.valueBlock.valueBeforeDecodeView);
  }

  toASN(): asn1js.AsnType {
    return this.block;
  }

  toSchema(name: string): asn1js.BaseBlock {
    return new asn1js.Any({ name }) as unknown as asn1js.BaseBlock;
  }

  /** The same content under a universal tag, e.g. an [0] IMPLICIT SET OF as the SET it stands for. */
  retagged(tagNumber: number): PreEncoded {
    const out = new PreEncoded();
    out.block = rewritten(1, tagNumber, this.block.idBlock.isConstructed, (this.block as asn1js.Primitive).valueBlock.valueHexView);
    out.der = Buffer.from(out.block.toBER(false));
    return out;
  }
}

/**
 * A block asn1js writes as the given tag with the given content octets: a primitive block, told it is
 * constructed when the value was, since asn1js writes a primitive's content as it holds it.
 */
function rewritten(tagClass: number, tagNumber: number, isConstructed: boolean, content: Uint8Array): asn1js.Primitive {
  const block = new asn1js.Primitive({ idBlock: { tagClass, tagNumber }, valueHex: content });
  block.idBlock.isConstructed = isConstructed;
  return block;
}
