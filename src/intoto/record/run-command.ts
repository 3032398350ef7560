import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import { EvidentError } from '../../errors.js';
import type { Byproducts } from './types.js';

/** Where teed output goes; `process.stdout` and the CLI's io streams both fit. */
export interface TeeTarget {
  write(chunk: string): unknown;
}

export interface RunCommandOptions {
  /** Record stdout and stderr (in-toto-run -s). Without it, the reference sends both to /dev/null. */
  recordStreams: boolean;
  cwd?: string;
  /**
   * Milliseconds before the command is killed (SIGKILL) and the run fails. Default: none. (The
   * reference defaults to 10 s, its LINK_CMD_EXEC_TIMEOUT, which few build steps fit in.)
   */
  timeout?: number;
  env?: NodeJS.ProcessEnv;
  /** Where recorded output is also shown as it comes (default: this process's stdout and stderr). */
  tee?: { stdout?: TeeTarget; stderr?: TeeTarget };
  /** When streams are not recorded, let the output through instead of discarding it as the reference does. */
  inheritOutput?: boolean;
}

// After the command exits, how long its pipes may still drain (a daemon it left behind may hold them open).
const DRAIN_MS = 200;

/**
 * Runs a step's command as the reference's execute_link does and returns its byproducts: `stdout` and
 * `stderr` (recorded only with recordStreams, else ''), and `return-value`, the exit code, or minus the
 * signal number when a signal killed it (Python's returncode). stdin is inherited; recorded output is
 * also teed to the terminal. A command that cannot be started is an error, as in the reference.
 *
 * @example
 * const byproducts = await runCommand(['make', 'all'], { recordStreams: true });
 */
export function runCommand(argv: string[], options: RunCommandOptions): Promise<Byproducts> {
  if (argv.length === 0 || argv[0] === '') {
    return Promise.reject(new EvidentError('BAD_USAGE', 'no command to run'));
  }
  const record = options.recordStreams;
  const out = record || options.inheritOutput ? (record ? 'pipe' : 'inherit') : 'ignore';
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['inherit', out, out],
  });
  const stdout = record ? capture(child.stdout!, options.tee?.stdout ?? process.stdout) : undefined;
  const stderr = record ? capture(child.stderr!, options.tee?.stderr ?? process.stderr) : undefined;

  return new Promise<Byproducts>((resolve, reject) => {
    let timedOut = false;
    const timer =
      options.timeout === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, options.timeout);
    child.once('error', (e: NodeJS.ErrnoException) => {
      if (timer) clearTimeout(timer);
      reject(spawnError(argv[0]!, e));
    });
    child.once('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      void Promise.all([stdout?.done(), stderr?.done()]).then(([o, e]) => {
        if (timedOut) {
          reject(new EvidentError('COMMAND_FAILED', `'${argv[0]}' timed out after ${options.timeout} ms and was killed`));
          return;
        }
        resolve({ stdout: o ?? '', stderr: e ?? '', 'return-value': code ?? -signalNumber(signal) });
      });
    });
  });
}

interface Capture {
  done(): Promise<string>;
}

function capture(stream: Readable, tee: TeeTarget): Capture {
  const chunks: Buffer[] = [];
  const shown = new StringDecoder('utf8');
  let ended = false;
  const end = new Promise<void>((resolve) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
  }).then(() => (ended = true));
  stream.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    tee.write(shown.write(chunk));
  });
  return {
    async done() {
      if (!ended) await Promise.race([end, new Promise((r) => setTimeout(r, DRAIN_MS).unref())]);
      stream.destroy();
      const rest = shown.end();
      if (rest !== '') tee.write(rest);
      return decodeLikePython(Buffer.concat(chunks));
    },
  };
}

/**
 * The reference reads the captured output as text: UTF-8 (here with U+FFFD for bad bytes, where Python
 * would fail), BOM kept, and universal newlines (CRLF and CR become LF).
 */
export function decodeLikePython(bytes: Uint8Array): string {
  const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
  return text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal === null ? 0 : (constants.signals[signal] ?? 0);
}

function spawnError(command: string, e: NodeJS.ErrnoException): EvidentError {
  const why = e.code === 'ENOENT' ? 'command not found' : e.code === 'EACCES' ? 'permission denied' : (e.message ?? String(e));
  return new EvidentError('COMMAND_FAILED', `cannot run '${command}': ${why}`, { cause: e });
}
