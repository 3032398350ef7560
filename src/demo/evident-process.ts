import { spawn, type ChildProcess } from 'node:child_process';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This package's bin/: the demo runs each step through the real CLI, as a CI job would. */
export const EVIDENT_BIN_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin');

export interface ProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `evident ARGS…` in `cwd` and captures its output. `evident` is on the PATH of what it runs, so
 * step commands and the layout's inspections can call it by name, as they would in CI.
 */
export function runEvident(args: string[], cwd: string): Promise<ProcessResult> {
  return runProcess(process.execPath, [join(EVIDENT_BIN_DIR, 'evident'), ...args], cwd);
}

export function runProcess(command: string, args: string[], cwd: string): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NO_COLOR: '1',
      SOURCE_DATE_EPOCH: '0',
      PATH: `${EVIDENT_BIN_DIR}${delimiter}${process.env.PATH ?? ''}`,
    };
    // The demo's keys are its own, unencrypted: a password the user exported for theirs must not reach them.
    delete env.EVIDENT_KEY_PASSWORD;
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
}

/** Stops a long-running process as a service manager would: SIGTERM, SIGKILL if it is still there 5 s later; resolved once it is gone. */
export function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  });
}
