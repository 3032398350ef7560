import { parseCertificateDer } from '../crypto/x509/pem.js';
import { asn1, AsnConvert, SubjectKeyIdentifierExtension, type X509Certificate } from '../crypto/x509/x509.js';
import { cms, tsp } from './asn1.js';
import { SignedDataIn, type SignerInfoIn } from './asn1-read.js';

/** A TimeStampToken taken apart; nothing in it is checked yet but its shape. */
export interface TokenParts {
  signedData: SignedDataIn;
  /** The one SignerInfo: the TSA's. */
  signerInfo: SignerInfoIn;
  /** The TSTInfo as signed: the octets of the encapsulated content. */
  tstInfoDer: Buffer;
  tstInfo: tsp.TSTInfo;
}

/** Why a token cannot be taken apart: it is not one (`MALFORMED`), or not one of a TSTInfo (`CONTENT_TYPE`). */
export type TokenReading = { ok: true; parts: TokenParts } | { ok: false; reason: 'MALFORMED' | 'CONTENT_TYPE'; message: string };

/**
 * Takes a DER TimeStampToken apart (RFC 3161 §2.4.2): a ContentInfo of SignedData whose content is a
 * TSTInfo, signed by exactly one signer. Never throws.
 */
export function readToken(der: Uint8Array): TokenReading {
  let info: cms.ContentInfo;
  let signedData: SignedDataIn;
  try {
    info = AsnConvert.parse(der, cms.ContentInfo);
    if (info.contentType !== cms.id_signedData)
      return { ok: false, reason: 'CONTENT_TYPE', message: `content type ${info.contentType} is not SignedData` };
    signedData = AsnConvert.parse(info.content, SignedDataIn);
  } catch (e) {
    return { ok: false, reason: 'MALFORMED', message: `not a TimeStampToken (${firstLine(e)})` };
  }
  const encap = signedData.encapContentInfo;
  if (encap.eContentType !== tsp.id_ct_tstInfo) {
    return { ok: false, reason: 'CONTENT_TYPE', message: `encapsulated content type ${encap.eContentType} is not id-ct-TSTInfo` };
  }
  const content = encap.eContent?.single;
  if (content === undefined) return { ok: false, reason: 'MALFORMED', message: 'the token holds no TSTInfo' };
  // RFC 3161 §2.4.2: no signature but the TSA's
  const [signerInfo, ...others] = signedData.signerInfos;
  if (signerInfo === undefined || others.length > 0) {
    return { ok: false, reason: 'MALFORMED', message: `the token has ${signedData.signerInfos.length} signers, not one` };
  }
  const tstInfoDer = Buffer.from(content.buffer);
  try {
    return { ok: true, parts: { signedData, signerInfo, tstInfoDer, tstInfo: AsnConvert.parse(tstInfoDer, tsp.TSTInfo) } };
  } catch (e) {
    return { ok: false, reason: 'MALFORMED', message: `its TSTInfo cannot be read (${firstLine(e)})` };
  }
}

/** The certificates the token carries; other kinds of CertificateChoices and unreadable ones are skipped. */
export function carriedCertificates(parts: TokenParts): X509Certificate[] {
  const out: X509Certificate[] = [];
  for (const c of parts.signedData.certificates ?? []) {
    try {
      out.push(parseCertificateDer(c.der));
    } catch {
      // an attribute certificate, or a broken one: it cannot be in the TSA's path either way
    }
  }
  return out;
}

/** Whether the SignerInfo's identifier names `cert`: its issuer and serial, or its subject key identifier. */
export function identifies(signerInfo: SignerInfoIn, cert: X509Certificate): boolean {
  const sid = signerInfo.sid;
  if (sid.issuerAndSerialNumber !== undefined) {
    const tbs = AsnConvert.parse(cert.rawData, asn1.Certificate).tbsCertificate;
    return (
      sameDer(AsnConvert.serialize(sid.issuerAndSerialNumber.issuer), AsnConvert.serialize(tbs.issuer)) &&
      sameDer(sid.issuerAndSerialNumber.serialNumber, tbs.serialNumber)
    );
  }
  if (sid.subjectKeyIdentifier !== undefined) {
    const ski = cert.getExtension(SubjectKeyIdentifierExtension)?.keyId;
    return ski !== undefined && Buffer.from(ski, 'hex').equals(Buffer.from(sid.subjectKeyIdentifier.buffer));
  }
  return false;
}

/** Whether two DER encodings are the same bytes. */
export function sameDer(a: ArrayBuffer, b: ArrayBuffer): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

/** What a token claims, read without checking it (verification is time/verify.ts's): when, and which TSA. */
export interface TimestampClaim {
  readonly genTime: Date;
  /** The subject of the certificate that signed it, when the token carries it. */
  readonly tsa?: string;
}

/** The claim of a DER TimeStampToken, for showing it; undefined when it cannot be taken apart. Never throws. */
export function timestampClaim(der: Uint8Array): TimestampClaim | undefined {
  const reading = readToken(der);
  if (!reading.ok) return undefined;
  try {
    const signer = carriedCertificates(reading.parts).find((c) => identifies(reading.parts.signerInfo, c));
    return { genTime: reading.parts.tstInfo.genTime, ...(signer !== undefined ? { tsa: signer.subject } : {}) };
  } catch {
    return { genTime: reading.parts.tstInfo.genTime };
  }
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 200);
}
