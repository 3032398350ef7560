import { AsnConvert } from '../crypto/x509/x509.js';
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

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 200);
}
