import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { checkValidity, verifyCertificateChain } from '../crypto/x509/chain.js';
import { asn1, AsnConvert, type X509Certificate } from '../crypto/x509/x509.js';
import { hashOf, verifyDigest, type HashName } from './algorithms.js';
import { id_aa_signingCertificateV2, pkcs9, PreEncoded, SigningCertificateV2, tsp } from './asn1.js';
import type { SignerInfoIn } from './asn1-read.js';
import { carriedCertificates, identifies, readToken, sameDer } from './token.js';
import { tsaCertificateProblem } from './tsa-certificate.js';

/** What failed, one reason per check (stable, for callers to switch on). */
export type TimestampFailureReason =
  /** Not a TimeStampToken, or a part of it cannot be read. */
  | 'MALFORMED'
  /** Not SignedData of a TSTInfo, or the content-type attribute says otherwise. */
  | 'CONTENT_TYPE'
  /** No signed attributes, or the signer's certificate is neither in the token nor given. */
  | 'SIGNER'
  /** The message-digest attribute is missing or is not the TSTInfo's hash. */
  | 'MESSAGE_DIGEST'
  /** The signing-certificate-v2 attribute (ESSCertIDv2, RFC 5816) is missing or names another certificate. */
  | 'SIGNING_CERTIFICATE'
  /** A digest or signature algorithm that is not accepted. */
  | 'ALGORITHM'
  /** The CMS signature over the signed attributes does not verify. */
  | 'SIGNATURE'
  /** The signer's certificate is not a TSA's: extended key usage timeStamping alone and critical (RFC 3161 §2.3). */
  | 'TSA_CERTIFICATE'
  /** genTime is outside the TSA certificate's validity. */
  | 'TSA_CERTIFICATE_VALIDITY'
  /** The TSA certificate does not chain to a trusted root (valid at genTime). */
  | 'UNTRUSTED'
  /** The message imprint is not the hash of the data. */
  | 'MESSAGE_IMPRINT'
  /** The token does not carry the nonce asked for. */
  | 'NONCE'
  /** The token's policy is not one of those accepted. */
  | 'POLICY';

/** A token that verified: when, by whom, under which policy. */
export interface VerifiedTimestamp {
  readonly ok: true;
  /** The time the TSA vouches the data existed by. */
  readonly genTime: Date;
  readonly tsaCertificate: X509Certificate;
  /** The TSA certificate's path to the trusted root it chains to, TSA first. */
  readonly chain: readonly X509Certificate[];
  readonly policy: string;
  /** The token's serial number, hex. */
  readonly serial: string;
  /** The hash of the message imprint. */
  readonly hash: HashName;
}

export interface TimestampFailure {
  readonly ok: false;
  readonly reason: TimestampFailureReason;
  /** One line saying what failed. */
  readonly message: string;
}

export type TimestampVerification = VerifiedTimestamp | TimestampFailure;

export interface TimestampVerifyOptions {
  /** Certificates that may complete the TSA's chain; the TSA's own may be among them, for a token that carries none. */
  intermediates?: readonly X509Certificate[];
  /** The nonce the request carried (the octets of the INTEGER): the token must echo it. */
  nonce?: Uint8Array;
  /** The TSA policies accepted; absent, any. */
  policies?: readonly string[];
}

/**
 * Checks an RFC 3161 TimeStampToken over `data` (a signature's bytes): the CMS signature over the
 * signed attributes, with a content type of id-ct-TSTInfo and a message digest of the TSTInfo; the
 * signing-certificate-v2 attribute naming the signer's certificate (RFC 5816); that certificate being
 * a TSA's (critical timeStamping, alone), valid at genTime, and chaining at genTime to one of
 * `trustedRoots`; and the message imprint being the hash of `data`. Revocation is not checked.
 *
 * Never throws: a token that does not verify is a failure with the reason of the first check it fails.
 *
 * @example
 * const r = verifyTimestampToken(token, signatureBytes, [tsaRoot]);
 * if (r.ok) console.log(`signed by ${r.genTime.toISOString()}`); else console.error(r.reason, r.message);
 */
export function verifyTimestampToken(
  token: Uint8Array,
  data: Uint8Array,
  trustedRoots: readonly X509Certificate[],
  options: TimestampVerifyOptions = {},
): TimestampVerification {
  try {
    return checkToken(token, data, trustedRoots, options);
  } catch (e) {
    // The checks compare parts of the token by encoding them again with the ASN.1 library, which throws
    // on some values it parsed (a name with a character its string type forbids): bytes the token's
    // maker chose. Such a token is malformed, and the contract is a failure, never an exception.
    return fail('MALFORMED', `the token cannot be read: ${(e as Error).message.split('\n')[0]}`);
  }
}

function checkToken(
  token: Uint8Array,
  data: Uint8Array,
  trustedRoots: readonly X509Certificate[],
  options: TimestampVerifyOptions,
): TimestampVerification {
  const reading = readToken(token);
  if (!reading.ok) return fail(reading.reason, reading.message);
  const { signerInfo, tstInfoDer, tstInfo } = reading.parts;

  const attrs = signedAttributes(signerInfo);
  if (typeof attrs === 'string') return fail('SIGNER', attrs);
  const digest = hashOf(signerInfo.digestAlgorithm);
  if (digest === undefined) return fail('ALGORITHM', `digest algorithm ${signerInfo.digestAlgorithm.algorithm} is not accepted`);

  const carried = carriedCertificates(reading.parts);
  const candidates = [...carried, ...(options.intermediates ?? [])];
  const signer = candidates.find((c) => identifies(signerInfo, c));
  if (signer === undefined) return fail('SIGNER', "the TSA's certificate is neither in the token nor among the certificates given");

  const signatureProblem = signatureCheck(signerInfo, digest, signer);
  if (signatureProblem !== undefined) return fail(signatureProblem.reason, signatureProblem.message);

  const contentType = attrs.get(pkcs9.id_pkcs9_at_contentType);
  if (contentType === undefined) return fail('CONTENT_TYPE', 'the content-type attribute is missing');
  if (readValue(contentType, pkcs9.ContentType)?.value !== tsp.id_ct_tstInfo) {
    return fail('CONTENT_TYPE', 'the content-type attribute is not id-ct-TSTInfo');
  }
  const messageDigest = attrs.get(pkcs9.id_pkcs9_at_messageDigest);
  if (messageDigest === undefined) return fail('MESSAGE_DIGEST', 'the message-digest attribute is missing');
  const signedDigest = readValue(messageDigest, pkcs9.MessageDigest);
  if (signedDigest === undefined || !Buffer.from(signedDigest.buffer).equals(createHash(digest).update(tstInfoDer).digest())) {
    return fail('MESSAGE_DIGEST', 'the message-digest attribute is not the hash of the TSTInfo (the token was altered)');
  }

  const essProblem = signingCertificateProblem(attrs.get(id_aa_signingCertificateV2), signer);
  if (essProblem !== undefined) return fail('SIGNING_CERTIFICATE', essProblem);

  const tsaProblem = tsaCertificateProblem(signer);
  if (tsaProblem !== undefined) return fail('TSA_CERTIFICATE', tsaProblem);
  const genTime = tstInfo.genTime;
  try {
    checkValidity(signer, 'the TSA certificate', genTime);
  } catch (e) {
    return fail('TSA_CERTIFICATE_VALIDITY', `${(e as Error).message} (genTime ${genTime.toISOString()})`);
  }
  let chain: X509Certificate[];
  try {
    [chain] = verifyCertificateChain(signer, { intermediates: candidates, roots: trustedRoots, time: genTime }) as [X509Certificate[]];
  } catch (e) {
    return fail('UNTRUSTED', `the TSA certificate is not trusted at genTime ${genTime.toISOString()}: ${(e as Error).message}`);
  }

  if (tstInfo.version !== tsp.TSTInfoVersion.v1) return fail('MALFORMED', `TSTInfo version ${tstInfo.version} is not 1`);
  const hash = hashOf(tstInfo.messageImprint.hashAlgorithm);
  if (hash === undefined)
    return fail('ALGORITHM', `message imprint hash ${tstInfo.messageImprint.hashAlgorithm.algorithm} is not accepted`);
  if (!Buffer.from(tstInfo.messageImprint.hashedMessage.buffer).equals(createHash(hash).update(data).digest())) {
    return fail('MESSAGE_IMPRINT', 'the token time-stamps other data (its message imprint is not the hash of these bytes)');
  }
  if (options.nonce !== undefined && (tstInfo.nonce === undefined || !Buffer.from(tstInfo.nonce).equals(Buffer.from(options.nonce)))) {
    return fail('NONCE', 'the token does not carry the nonce of the request');
  }
  if (options.policies !== undefined && !options.policies.includes(tstInfo.policy)) {
    return fail('POLICY', `policy ${tstInfo.policy} is not one of ${options.policies.join(', ')}`);
  }
  return {
    ok: true,
    genTime,
    tsaCertificate: signer,
    chain,
    policy: tstInfo.policy,
    serial: Buffer.from(tstInfo.serialNumber).toString('hex'),
    hash,
  };
}

function fail(reason: TimestampFailureReason, message: string): TimestampFailure {
  return { ok: false, reason, message };
}

/** The signed attributes by type, each with its one value; or why they cannot be used (none, or one twice). */
function signedAttributes(signerInfo: SignerInfoIn): Map<string, ArrayBuffer> | string {
  const attrs = signerInfo.signedAttrs;
  if (attrs === undefined || signerInfo.signedAttrsRaw === undefined) return 'the signer has no signed attributes';
  const byType = new Map<string, ArrayBuffer>();
  for (const a of attrs) {
    // RFC 5652 §5.3 (and RFC 5035 for signing certificates): one instance, one value
    if (byType.has(a.attrType) || a.attrValues.length !== 1) return `signed attribute ${a.attrType} is not exactly one value`;
    byType.set(a.attrType, a.attrValues[0]!);
  }
  return byType;
}

function readValue<T>(value: ArrayBuffer, type: new () => T): T | undefined {
  try {
    return AsnConvert.parse(value, type);
  } catch {
    return undefined;
  }
}

/** Why the signing-certificate-v2 attribute does not name `signer` (its first ESSCertIDv2 is the signer's, RFC 5035 §5.4), or undefined. */
function signingCertificateProblem(value: ArrayBuffer | undefined, signer: X509Certificate): string | undefined {
  if (value === undefined) return 'the signing-certificate-v2 attribute (ESSCertIDv2) is missing';
  const first = readValue(value, SigningCertificateV2)?.certs[0];
  if (first === undefined) return 'the signing-certificate-v2 attribute cannot be read';
  const hash = first.hashAlgorithm === undefined ? 'sha256' : hashOf(first.hashAlgorithm);
  if (hash === undefined) return `the signing-certificate-v2 hash ${first.hashAlgorithm?.algorithm} is not accepted`;
  if (!Buffer.from(first.certHash.buffer).equals(createHash(hash).update(new Uint8Array(signer.rawData)).digest())) {
    return "the signing-certificate-v2 attribute names another certificate than the signer's";
  }
  if (first.issuerSerial !== undefined) {
    const tbs = AsnConvert.parse(signer.rawData, asn1.Certificate).tbsCertificate;
    const names = first.issuerSerial.issuer.map((n) => n.directoryName).filter((n) => n !== undefined);
    const sameIssuer = names.some((n) => sameDer(AsnConvert.serialize(n), AsnConvert.serialize(tbs.issuer)));
    if (!sameIssuer || !sameDer(first.issuerSerial.serialNumber, tbs.serialNumber)) {
      return "the signing-certificate-v2 issuer and serial are not the signer certificate's";
    }
  }
  return undefined;
}

/** Checks the signature over the signed attributes as sent, under the SET tag (RFC 5652 §5.4). */
function signatureCheck(
  signerInfo: SignerInfoIn,
  digest: HashName,
  signer: X509Certificate,
): { reason: 'ALGORITHM' | 'SIGNATURE'; message: string } | undefined {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(signer.publicKey.rawData), format: 'der', type: 'spki' });
  } catch {
    // a token carries its TSA certificate: whoever made the token chose its bytes
    return { reason: 'SIGNATURE', message: "the TSA certificate's public key cannot be read" };
  }
  const alg = signerInfo.signatureAlgorithm.algorithm;
  const verifyWith = verifyDigest(alg, digest, key.asymmetricKeyType);
  if (verifyWith === undefined)
    return { reason: 'ALGORITHM', message: `signature algorithm ${alg} is not accepted for a ${key.asymmetricKeyType} key` };
  const signed = new PreEncoded(new Uint8Array(signerInfo.signedAttrsRaw!)).retagged(SET_TAG).der;
  let valid = false;
  try {
    valid = verify(verifyWith, signed, key, Buffer.from(signerInfo.signature.buffer));
  } catch {
    valid = false;
  }
  return valid ? undefined : { reason: 'SIGNATURE', message: "the token's signature does not verify with the TSA certificate's key" };
}

const SET_TAG = 17;
