import { SpiffeError } from '../errors.js';
import type { EvidentErrorCode } from '../../errors.js';

/** One reason per X509-SVID rule (X509-SVID standard §4–§5) and per parse failure. */
export type X509SvidErrorReason =
  | 'NO_CERTIFICATES'
  | 'BAD_CERTIFICATE'
  | 'BAD_KEY'
  | 'KEY_MISMATCH'
  | 'NO_URI_SAN'
  | 'MULTIPLE_URI_SANS'
  | 'BAD_SPIFFE_ID'
  | 'ID_MISMATCH'
  | 'LEAF_IS_CA'
  | 'LEAF_MISSING_DIGITAL_SIGNATURE'
  | 'LEAF_HAS_KEY_CERT_SIGN'
  | 'LEAF_HAS_CRL_SIGN'
  | 'INTERMEDIATE_NOT_CA'
  | 'INTERMEDIATE_MISSING_KEY_CERT_SIGN'
  | 'CERT_EXPIRED'
  | 'CERT_NOT_YET_VALID'
  | 'PATH_LEN_EXCEEDED'
  | 'NO_BUNDLE'
  | 'UNTRUSTED_CHAIN';

export class X509SvidError extends SpiffeError<X509SvidErrorReason> {
  constructor(reason: X509SvidErrorReason, message: string, options: { code?: EvidentErrorCode; cause?: unknown } = {}) {
    super('x509svid', reason, message, options);
  }
}
