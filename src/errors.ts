/**
 * Typed errors with stable codes callers can switch on. A user error (bad input, bad flag) is shown as
 * one line, `evident: <file>: <message>`, never as a stack trace; see src/cli/main.ts.
 */
export type EvidentErrorCode =
  | 'BAD_INPUT'
  | 'BAD_USAGE'
  | 'BAD_KEY'
  | 'BAD_SIGNATURE'
  | 'UNSUPPORTED'
  | 'NOT_FOUND'
  | 'TOO_LARGE'
  | 'PATH_ESCAPE'
  | 'SYMLINK_LOOP'
  | 'ARTIFACT_COLLISION'
  | 'ARTIFACT_NAME'
  | 'LAYOUT_EXPIRED'
  | 'THRESHOLD_NOT_MET'
  | 'RULE_VIOLATION'
  | 'DIGEST_MISMATCH'
  | 'COMMAND_FAILED'
  | 'ENVIRONMENT'
  | 'INTERNAL';

/** Exit code a CLI returns for an error of each code (docs/ARCHITECTURE.md, CLI contract). */
export function exitCodeFor(code: EvidentErrorCode): number {
  switch (code) {
    case 'ENVIRONMENT':
      return 3;
    case 'LAYOUT_EXPIRED':
    case 'THRESHOLD_NOT_MET':
    case 'RULE_VIOLATION':
    case 'DIGEST_MISMATCH':
    case 'BAD_SIGNATURE':
      return 1;
    case 'INTERNAL':
      return 70;
    default:
      return 2;
  }
}

export class EvidentError extends Error {
  override readonly name = 'EvidentError';
  readonly code: EvidentErrorCode;
  /** The file (or other input) the problem is in, printed before the message. */
  readonly file: string | undefined;

  constructor(code: EvidentErrorCode, message: string, options: { file?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.file = options.file;
  }

  /** The same error, attributed to a file (keeps the first attribution). */
  inFile(file: string): EvidentError {
    if (this.file !== undefined) return this;
    return new EvidentError(this.code, this.message, { file, cause: this.cause });
  }
}

export function badInput(message: string, file?: string): EvidentError {
  return new EvidentError('BAD_INPUT', message, { file });
}

export function isEvidentError(e: unknown): e is EvidentError {
  return e instanceof EvidentError;
}

/** An error as one line: `file: message` when it names its file, else its message. */
export function describeError(e: unknown): string {
  if (e instanceof EvidentError && e.file !== undefined) return `${e.file}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}
