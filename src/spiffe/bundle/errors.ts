import { SpiffeError } from '../errors.js';
import type { EvidentErrorCode } from '../../errors.js';

export type BundleErrorReason =
  | 'NO_CERTIFICATES'
  | 'BAD_CERTIFICATE'
  | 'BAD_JWKS'
  | 'BAD_JWK'
  | 'MISSING_KID'
  | 'DUPLICATE_KID'
  | 'BAD_X5C'
  | 'BAD_SEQUENCE'
  | 'BAD_REFRESH_HINT'
  | 'NOT_FOUND';

export class BundleError extends SpiffeError<BundleErrorReason> {
  constructor(
    module: 'x509bundle' | 'jwtbundle' | 'spiffebundle',
    reason: BundleErrorReason,
    message: string,
    options: { code?: EvidentErrorCode; cause?: unknown } = {},
  ) {
    super(module, reason, message, options);
  }
}
