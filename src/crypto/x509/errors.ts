import { EvidentError } from '../../errors.js';

/** One reason per rule of certificate path validation that can fail. */
export type X509ChainErrorReason =
  | 'BAD_CERTIFICATE'
  | 'CERT_EXPIRED'
  | 'CERT_NOT_YET_VALID'
  | 'INTERMEDIATE_NOT_CA'
  | 'INTERMEDIATE_MISSING_KEY_CERT_SIGN'
  | 'PATH_LEN_EXCEEDED'
  | 'UNKNOWN_AUTHORITY';

/**
 * A certificate that cannot be trusted (code BAD_SIGNATURE: a failed verification, exit 1), or one that
 * cannot even be read (BAD_CERTIFICATE, code BAD_INPUT). `reason` is stable, for callers to switch on.
 */
export class X509ChainError extends EvidentError {
  readonly reason: X509ChainErrorReason;

  constructor(reason: X509ChainErrorReason, message: string, options: { cause?: unknown } = {}) {
    super(reason === 'BAD_CERTIFICATE' ? 'BAD_INPUT' : 'BAD_SIGNATURE', message, options);
    this.reason = reason;
  }
}
