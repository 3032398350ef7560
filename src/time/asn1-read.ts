/**
 * What a verifier reads: the library's SignerInfo but for its signed attributes, whose bytes as sent
 * must be kept (the signature covers them; the library re-encodes an IMPLICIT SET OF before parsing it
 * and keeps no copy), and the SignedData and TimeStampResp around it. A token's bytes stay as sent too.
 */
import {
  Attribute as cmsAttribute,
  CMSVersion,
  DigestAlgorithmIdentifier,
  DigestAlgorithmIdentifiers,
  EncapsulatedContentInfo,
  RevocationInfoChoices,
  SignatureAlgorithmIdentifier,
  SignerIdentifier,
} from '@peculiar/asn1-cms';
import { AsnArray, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes, OctetString } from '@peculiar/asn1-schema';
import { PKIStatusInfo } from '@peculiar/asn1-tsp';
import { PreEncoded } from './asn1.js';

/** SignedAttributes ::= SET OF Attribute, read as a type of its own so its bytes are kept (`raw`). */
export class SignedAttributesIn extends AsnArray<cmsAttribute> {
  constructor(items?: cmsAttribute[]) {
    super(items);
    Object.setPrototypeOf(this, SignedAttributesIn.prototype);
  }
}
AsnType({ type: AsnTypeTypes.Set, itemType: cmsAttribute })(SignedAttributesIn);

export class SignerInfoIn {
  version = CMSVersion.v1;
  sid = new SignerIdentifier();
  digestAlgorithm = new DigestAlgorithmIdentifier();
  signedAttrs?: SignedAttributesIn;
  /** The signed attributes' [0] element exactly as sent, tag and length included. */
  signedAttrsRaw?: ArrayBuffer;
  signatureAlgorithm = new SignatureAlgorithmIdentifier();
  signature = new OctetString();
  unsignedAttrs?: cmsAttribute[];
  constructor(params: Partial<SignerInfoIn> = {}) {
    Object.assign(this, params);
  }
}
AsnProp({ type: AsnPropTypes.Integer })(SignerInfoIn.prototype, 'version');
AsnProp({ type: SignerIdentifier })(SignerInfoIn.prototype, 'sid');
AsnProp({ type: DigestAlgorithmIdentifier })(SignerInfoIn.prototype, 'digestAlgorithm');
AsnProp({ type: SignedAttributesIn, context: 0, implicit: true, optional: true, raw: true })(SignerInfoIn.prototype, 'signedAttrs');
AsnProp({ type: SignatureAlgorithmIdentifier })(SignerInfoIn.prototype, 'signatureAlgorithm');
AsnProp({ type: OctetString })(SignerInfoIn.prototype, 'signature');
AsnProp({ type: cmsAttribute, repeated: 'set', context: 1, implicit: true, optional: true })(SignerInfoIn.prototype, 'unsignedAttrs');

export class SignedDataIn {
  version = CMSVersion.v3;
  digestAlgorithms = new DigestAlgorithmIdentifiers();
  encapContentInfo = new EncapsulatedContentInfo();
  /** Each CertificateChoices as sent: certificates, and any other kind (attribute certificates), which a verifier skips. */
  certificates?: PreEncoded[];
  crls?: RevocationInfoChoices;
  signerInfos: SignerInfoIn[] = [];
  constructor(params: Partial<SignedDataIn> = {}) {
    Object.assign(this, params);
  }
}
AsnProp({ type: AsnPropTypes.Integer })(SignedDataIn.prototype, 'version');
AsnProp({ type: DigestAlgorithmIdentifiers })(SignedDataIn.prototype, 'digestAlgorithms');
AsnProp({ type: EncapsulatedContentInfo })(SignedDataIn.prototype, 'encapContentInfo');
AsnProp({ type: PreEncoded, repeated: 'set', context: 0, implicit: true, optional: true })(SignedDataIn.prototype, 'certificates');
AsnProp({ type: RevocationInfoChoices, context: 1, implicit: true, optional: true })(SignedDataIn.prototype, 'crls');
AsnProp({ type: SignerInfoIn, repeated: 'set' })(SignedDataIn.prototype, 'signerInfos');

/** RFC 3161 TimeStampResp as a client reads it: its token kept as the bytes sent. */
export class TimeStampRespIn {
  status = new PKIStatusInfo();
  timeStampToken?: PreEncoded;
  constructor(params: Partial<TimeStampRespIn> = {}) {
    Object.assign(this, params);
  }
}
AsnProp({ type: PKIStatusInfo })(TimeStampRespIn.prototype, 'status');
AsnProp({ type: PreEncoded, optional: true })(TimeStampRespIn.prototype, 'timeStampToken');
