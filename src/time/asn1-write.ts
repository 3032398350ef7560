/**
 * The types a TSA writes its answers in. Its certificates, identifiers and fixed attributes are
 * `PreEncoded`: the library encodes a certificate held as an object anew for every token, and re-parses
 * every value typed ANY (a ContentInfo's content, an attribute's value) before encoding it, which cost
 * more than everything else a token takes together (measured: 1.1 ms of 1.5 ms, two certificates).
 */
import { CMSVersion, EncapsulatedContentInfo, id_signedData } from '@peculiar/asn1-cms';
import { AsnArray, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes, OctetString } from '@peculiar/asn1-schema';
import { PKIStatusInfo } from '@peculiar/asn1-tsp';
import { PreEncoded } from './asn1.js';

/**
 * SignedAttributes ::= SET OF Attribute, on its own: the bytes a SignerInfo's signature covers are the
 * attributes encoded with the SET tag, not the [0] they are carried under (RFC 5652 §5.4).
 */
export class SignedAttributesSet extends AsnArray<PreEncoded> {
  constructor(items?: PreEncoded[]) {
    super(items);
    Object.setPrototypeOf(this, SignedAttributesSet.prototype);
  }
}
AsnType({ type: AsnTypeTypes.Set, itemType: PreEncoded })(SignedAttributesSet);

/**
 * RFC 5652 SignerInfo as a TSA writes it: what is the same in every token (its identifier, algorithms,
 * the fixed attributes) pre-encoded; the signed attributes in the order given (DER's, the caller's job).
 */
export class SignerInfoOut {
  version = CMSVersion.v1;
  sid = new PreEncoded();
  digestAlgorithm = new PreEncoded();
  signedAttrs: PreEncoded[] = [];
  signatureAlgorithm = new PreEncoded();
  signature = new OctetString();
  constructor(params: Partial<SignerInfoOut> = {}) {
    Object.assign(this, params);
  }
}
AsnProp({ type: AsnPropTypes.Integer })(SignerInfoOut.prototype, 'version');
AsnProp({ type: PreEncoded })(SignerInfoOut.prototype, 'sid');
AsnProp({ type: PreEncoded })(SignerInfoOut.prototype, 'digestAlgorithm');
AsnProp({ type: PreEncoded, repeated: 'set', context: 0, implicit: true })(SignerInfoOut.prototype, 'signedAttrs');
AsnProp({ type: PreEncoded })(SignerInfoOut.prototype, 'signatureAlgorithm');
AsnProp({ type: OctetString })(SignerInfoOut.prototype, 'signature');

/** RFC 5652 SignedData as a TSA writes it: its digest algorithms and certificates pre-encoded. */
export class SignedDataOut {
  version = CMSVersion.v3;
  /** The SET of digest algorithms, pre-encoded whole. */
  digestAlgorithms = new PreEncoded();
  encapContentInfo = new EncapsulatedContentInfo();
  certificates?: PreEncoded[];
  signerInfos: SignerInfoOut[] = [];
  constructor(params: Partial<SignedDataOut> = {}) {
    Object.assign(this, params);
  }
}
AsnProp({ type: AsnPropTypes.Integer })(SignedDataOut.prototype, 'version');
AsnProp({ type: PreEncoded })(SignedDataOut.prototype, 'digestAlgorithms');
AsnProp({ type: EncapsulatedContentInfo })(SignedDataOut.prototype, 'encapContentInfo');
AsnProp({ type: PreEncoded, repeated: 'set', context: 0, implicit: true, optional: true })(SignedDataOut.prototype, 'certificates');
AsnProp({ type: SignerInfoOut, repeated: 'set' })(SignedDataOut.prototype, 'signerInfos');

/** A TimeStampToken (RFC 3161 §2.4.2: a ContentInfo of SignedData) with its content typed, not ANY. */
export class TimeStampTokenOut {
  contentType = id_signedData;
  content = new SignedDataOut();
  constructor(params: Partial<TimeStampTokenOut> = {}) {
    Object.assign(this, params);
  }
}
AsnProp({ type: AsnPropTypes.ObjectIdentifier })(TimeStampTokenOut.prototype, 'contentType');
AsnProp({ type: SignedDataOut, context: 0 })(TimeStampTokenOut.prototype, 'content');

/** RFC 3161 TimeStampResp as a TSA writes it. */
export class TimeStampRespOut {
  status = new PKIStatusInfo();
  timeStampToken?: TimeStampTokenOut;
  constructor(params: Partial<TimeStampRespOut> = {}) {
    Object.assign(this, params);
  }
}
AsnProp({ type: PKIStatusInfo })(TimeStampRespOut.prototype, 'status');
AsnProp({ type: TimeStampTokenOut, optional: true })(TimeStampRespOut.prototype, 'timeStampToken');

/** The message-digest attribute (RFC 5652 §11.2) typed: the library's Attribute holds its value as ANY, parsed again on every encoding. */
export class MessageDigestAttribute {
  attrType = '1.2.840.113549.1.9.4';
  attrValues: OctetString[] = [];
  constructor(digest?: Uint8Array) {
    if (digest !== undefined) this.attrValues = [new OctetString(digest)];
  }
}
AsnProp({ type: AsnPropTypes.ObjectIdentifier })(MessageDigestAttribute.prototype, 'attrType');
AsnProp({ type: OctetString, repeated: 'set' })(MessageDigestAttribute.prototype, 'attrValues');
