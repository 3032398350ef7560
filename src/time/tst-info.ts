import { generalizedTime, integer, sequence, smallInteger } from '../crypto/der.js';

/** What a TSTInfo (RFC 3161 §2.4.2) holds, each part as DER (or INTEGER content octets) ready to be written. */
export interface TstInfoParts {
  /** The policy's OBJECT IDENTIFIER. */
  policy: Buffer;
  /** The request's MessageImprint, as read. */
  messageImprint: Buffer;
  /** The serial number's content octets (positive, minimal). */
  serialNumber: Uint8Array;
  genTime: Date;
  /** The Accuracy, when stated. */
  accuracy?: Buffer;
  /** The request's nonce, its content octets as sent. */
  nonce?: Uint8Array;
}

/**
 * The DER of a TSTInfo: version 1, policy, messageImprint, serialNumber, genTime, then accuracy and
 * nonce when given; ordering (DEFAULT FALSE), tsa and extensions are never written.
 */
export function tstInfoDer(parts: TstInfoParts): Buffer {
  return sequence(
    V1,
    parts.policy,
    parts.messageImprint,
    integer(parts.serialNumber),
    generalizedTime(parts.genTime),
    ...(parts.accuracy !== undefined ? [parts.accuracy] : []),
    ...(parts.nonce !== undefined ? [integer(parts.nonce)] : []),
  );
}

const V1 = smallInteger(1);
