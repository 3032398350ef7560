import { EvidentError, type EvidentErrorCode } from '../errors.js';

/** The go-spiffe-style packages an error can come from; every message starts with one of them. */
export type SpiffeModule = 'spiffeid' | 'x509svid' | 'jwtsvid' | 'x509bundle' | 'jwtbundle' | 'spiffebundle' | 'workloadapi';

/**
 * The EvidentError code for "the credential is not trusted": exit 1 like any failed verification,
 * as opposed to BAD_INPUT (exit 2) for bytes that cannot even be parsed.
 */
export const NOT_TRUSTED: EvidentErrorCode = 'BAD_SIGNATURE';

/**
 * Base of the SPIFFE error classes. `code` is the EvidentError code the CLI maps to an exit code;
 * `reason` is the stable, fine-grained code of the rule that failed (e.g. `LEAF_IS_CA`), for callers
 * to `switch` on. The message is prefixed by the module, as go-spiffe does: `x509svid: leaf is a CA`.
 *
 * @example
 * try { SpiffeId.parse(s) } catch (e) { if (e instanceof SpiffeIdError && e.reason === 'WRONG_SCHEME') … }
 */
export class SpiffeError<R extends string = string> extends EvidentError {
  readonly reason: R;
  readonly module: SpiffeModule;

  constructor(module: SpiffeModule, reason: R, message: string, options: { code?: EvidentErrorCode; cause?: unknown } = {}) {
    super(options.code ?? 'BAD_INPUT', `${module}: ${message}`, { cause: options.cause });
    this.module = module;
    this.reason = reason;
  }

  /** The same error attributed to a file, keeping its class and `reason` (unlike the base class). */
  override inFile(file: string): this {
    if (this.file !== undefined) return this;
    const copy = Object.create(Object.getPrototypeOf(this) as object) as this;
    Object.defineProperties(copy, Object.getOwnPropertyDescriptors(this));
    Object.defineProperty(copy, 'file', { value: file, enumerable: true });
    return copy;
  }
}

export function isSpiffeError(e: unknown): e is SpiffeError {
  return e instanceof SpiffeError;
}
