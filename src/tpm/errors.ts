import { EvidentError } from '../errors.js';
import { commandName } from './constants.js';
import { decodeRc, describeRc, type DecodedRc } from './response-codes.js';

/**
 * A TPM answered a command with an error: `TPM2_ActivateCredential: TPM_RC_INTEGRITY (parameter 1):
 * integrity check failed [0x1df]`. `rc` is the decoded code, for callers to switch on (`rc.base ===
 * TPM_RC.INTEGRITY`). The code is ENVIRONMENT: the TPM, not the user's input, refused.
 */
export class TpmError extends EvidentError {
  readonly rc: DecodedRc;
  readonly command: number;

  constructor(command: number, rc: number) {
    super('ENVIRONMENT', `${commandName(command)}: ${describeRc(rc)}`);
    this.rc = decodeRc(rc);
    this.command = command;
  }
}

export function isTpmError(e: unknown, base?: number): e is TpmError {
  return e instanceof TpmError && (base === undefined || e.rc.base === base);
}
