import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** bin/evident of this package: the demo runs each step through the real CLI, as a CI job would. */
const EVIDENT_BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'evident');

export interface ProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `evident ARGS…` in `cwd` and captures its output. */
export function runEvident(args: string[], cwd: string): Promise<ProcessResult> {
  return runProcess(process.execPath, [EVIDENT_BIN, ...args], cwd);
}

export function runProcess(command: string, args: string[], cwd: string): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
}
