import { AsnConvert } from '../crypto/x509/x509.js';
import { HASH_LENGTHS, hashOf } from './algorithms.js';
import { tsp, type FailureInfo } from './asn1.js';
import { objectIdentifier } from '../crypto/object-identifier.js';
import { messageImprintDer, timestampRequestDer } from './request-der.js';

/**
 * A request the TSA will answer with a token (and its message imprint's DER, to echo in the TSTInfo), or
 * why not (the PKIFailureInfo and a line for statusString).
 */
export type RequestReading =
  { ok: true; request: tsp.TimeStampReq; messageImprint: Buffer } | { ok: false; failure: FailureInfo; text: string };

/**
 * Reads a DER TimeStampReq as RFC 3161 §2.4.1 and §2.4.2 want a TSA to: any bytes that are not one
 * (or not in DER: the round trip must give them back) are badDataFormat; a message imprint's hash
 * other than SHA-256/384/512 is badAlg; a requested policy other than the TSA's own is
 * unacceptedPolicy; any extension is unacceptedExtension, as none is understood. Never throws.
 * `policyDer` is the policy's OID encoded, which an authority does once rather than per request.
 */
export function readTimestampRequest(der: Uint8Array, policy: string, policyDer = objectIdentifier(policy)): RequestReading {
  let request: tsp.TimeStampReq;
  try {
    request = AsnConvert.parse(der, tsp.TimeStampReq);
    // the round trip: the requests a TSA grants are written back by hand (request-der.ts), the rest by the library
    const written = timestampRequestDer(request, policy, policyDer) ?? Buffer.from(AsnConvert.serialize(request));
    if (!written.equals(der)) return refuse('badDataFormat', 'the request is not a DER TimeStampReq');
  } catch {
    return refuse('badDataFormat', 'the request is not a DER TimeStampReq');
  }
  if (request.version !== tsp.TimeStampReqVersion.v1) return refuse('badDataFormat', `TimeStampReq version ${request.version} is not 1`);
  const hash = hashOf(request.messageImprint.hashAlgorithm);
  if (hash === undefined) {
    return refuse(
      'badAlg',
      `hash algorithm ${request.messageImprint.hashAlgorithm.algorithm} is not accepted (SHA-256, SHA-384, SHA-512 are)`,
    );
  }
  if (request.messageImprint.hashedMessage.byteLength !== HASH_LENGTHS[hash]) {
    return refuse('badDataFormat', `the message imprint is ${request.messageImprint.hashedMessage.byteLength} bytes, not a ${hash} hash`);
  }
  if (request.reqPolicy !== undefined && request.reqPolicy !== policy) {
    return refuse('unacceptedPolicy', `policy ${request.reqPolicy} is not this TSA's (${policy})`);
  }
  if (request.extensions !== undefined && request.extensions.length > 0) {
    return refuse('unacceptedExtension', `extension ${request.extensions.map((e) => e.extnID).join(', ')} is not supported`);
  }
  const imprint = messageImprintDer(request.messageImprint);
  // hashOf and messageImprintDer accept the same algorithms; this is for the compiler
  if (imprint === undefined) return refuse('badAlg', `hash algorithm ${request.messageImprint.hashAlgorithm.algorithm} is not accepted`);
  return { ok: true, request, messageImprint: imprint };
}

function refuse(failure: FailureInfo, text: string): RequestReading {
  return { ok: false, failure, text };
}
