import { SpiffeError } from '../errors.js';
import type { EvidentErrorCode } from '../../errors.js';

/** One reason per JWT-SVID rule (JWT-SVID standard §2–§3, §5). */
export type JwtSvidErrorReason =
  | 'MALFORMED'
  | 'UNSUPPORTED_ALG'
  | 'MISSING_KID'
  | 'BAD_TYP'
  | 'MISSING_SUB'
  | 'BAD_SUBJECT'
  | 'NO_BUNDLE'
  | 'UNKNOWN_KID'
  | 'BAD_SIGNATURE'
  | 'MISSING_EXP'
  | 'EXPIRED'
  | 'NOT_YET_VALID'
  | 'MISSING_AUDIENCE'
  | 'AUDIENCE_MISMATCH'
  | 'BAD_KEY';

export class JwtSvidError extends SpiffeError<JwtSvidErrorReason> {
  constructor(reason: JwtSvidErrorReason, message: string, options: { code?: EvidentErrorCode; cause?: unknown } = {}) {
    super('jwtsvid', reason, message, options);
  }
}
