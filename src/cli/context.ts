import { EvidentError, isEvidentError, exitCodeFor } from '../errors.js';

export interface OutputStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

/** What a command may touch of the outside world; injected so commands run in-process in tests. */
export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /**
   * Present only when stdin is a terminal, the one place a password may be asked for. The stream is
   * opened only when a prompt needs it: opening stdin would change it for a command `evident run` starts.
   */
  terminal?: { stdin(): NodeJS.ReadStream };
}

/** Shared by every command of one CLI invocation: its io and the exit code it will return. */
export class CliContext {
  exitCode = 0;
  constructor(readonly io: CliIo) {}

  out(line: string): void {
    this.io.stdout.write(line.endsWith('\n') ? line : `${line}\n`);
  }

  err(line: string): void {
    this.io.stderr.write(line.endsWith('\n') ? line : `${line}\n`);
  }

  warn(message: string): void {
    this.err(`evident: warning: ${message}`);
  }

  /**
   * Wraps a command's action: its returned number is the exit code; an EvidentError becomes the
   * one-line `evident: <file>: <message>` and its exit code; anything else is a bug and shows its stack.
   */
  action<A extends unknown[]>(fn: (...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
    return async (...args: A) => {
      try {
        this.exitCode = (await fn(...args)) ?? 0;
      } catch (e) {
        this.exitCode = this.report(e);
      }
    };
  }

  report(e: unknown): number {
    if (isEvidentError(e)) {
      // validation errors carry one problem per line; each line gets the prefix so it stands alone
      const prefix = `evident: ${e.file !== undefined ? `${printableName(e.file)}: ` : ''}`;
      for (const line of e.message.split('\n')) this.err(`${prefix}${line}`);
      return exitCodeFor(e.code);
    }
    const err = e as NodeJS.ErrnoException;
    if (err && typeof err.code === 'string' && typeof err.path === 'string') {
      // A system error about a file the user named (missing, unreadable): their input, not our bug.
      this.err(`evident: ${printableName(err.path)}: ${describeSystemError(err)}`);
      return 2;
    }
    this.err(`evident: internal error: ${err?.stack ?? String(e)}`);
    return 70;
  }
}

/** A file name as given, with control characters (a NUL, a newline) shown as \xNN so the message stays one line. */
function printableName(name: string): string {
  const shown = (c: string) => {
    const code = c.charCodeAt(0);
    return code < 0x20 || code === 0x7f ? `\\x${code.toString(16).padStart(2, '0')}` : c;
  };
  return Array.from(name, shown).join('');
}

function describeSystemError(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOTDIR':
      return 'not a directory';
    default:
      return err.message;
  }
}

/** Errors about a file name it as the user gave it, not as resolved against the working directory. */
export async function asGiven<T>(promise: Promise<T>, given: string): Promise<T> {
  try {
    return await promise;
  } catch (e) {
    if (isEvidentError(e)) throw new EvidentError(e.code, e.message, { file: given, cause: e.cause });
    const err = e as NodeJS.ErrnoException;
    if (err && typeof err.code === 'string' && typeof err.path === 'string')
      throw new EvidentError('BAD_INPUT', describeSystemError(err), { file: given, cause: e });
    throw e;
  }
}
