import { SpiffeError } from '../errors.js';
import type { EvidentErrorCode } from '../../errors.js';

/** Every rule of the SPIFFE-ID standard that a string can break, plus a failed match. */
export type SpiffeIdErrorReason =
  | 'EMPTY'
  | 'TOO_LONG'
  | 'WRONG_SCHEME'
  | 'MISSING_TRUST_DOMAIN'
  | 'TRUST_DOMAIN_TOO_LONG'
  | 'BAD_TRUST_DOMAIN_CHAR'
  | 'USERINFO'
  | 'PORT'
  | 'QUERY'
  | 'FRAGMENT'
  | 'PERCENT_ENCODED'
  | 'NO_LEADING_SLASH'
  | 'EMPTY_SEGMENT'
  | 'DOT_SEGMENT'
  | 'TRAILING_SLASH'
  | 'BAD_PATH_CHAR'
  | 'NOT_MATCHED';

export class SpiffeIdError extends SpiffeError<SpiffeIdErrorReason> {
  constructor(reason: SpiffeIdErrorReason, message: string, code?: EvidentErrorCode) {
    super('spiffeid', reason, message, { code });
  }
}
