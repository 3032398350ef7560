/**
 * Access to the Python in-toto reference (Debian package `in-toto`) for interoperability tests.
 * Tests call `skipUnlessReference(t)` so a machine without it says loudly what was not checked.
 */
import { execFile } from './child-process.js';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import type { TestContext } from 'node:test';

const execFileP = promisify(execFile);

/** Debian's python3 carries the reference; a pyenv `python3` on PATH may not. */
export const REFERENCE_PYTHON = '/usr/bin/python3';
export const REFERENCE_BIN = '/usr/bin';

export const referenceInstalled: boolean =
  existsSync(`${REFERENCE_BIN}/in-toto-run`) && existsSync('/usr/lib/python3/dist-packages/in_toto');

/** Marks the test skipped, with a message that names what was not checked, when the reference is absent. */
export function skipUnlessReference(t: TestContext): boolean {
  if (referenceInstalled) return false;
  const message = 'SKIPPED: the in-toto reference is not installed (apt-get install in-toto); interoperability NOT checked';
  process.stderr.write(`\n*** ${message} ***\n`);
  t.skip(message);
  return true;
}

/** Runs a Python snippet with the reference importable; returns stdout. */
export async function runReferencePython(code: string, options: { cwd?: string; input?: string } = {}): Promise<string> {
  const child = execFileP(REFERENCE_PYTHON, ['-c', code], { cwd: options.cwd, maxBuffer: 256 * 1024 * 1024 });
  if (options.input !== undefined) {
    child.child.stdin?.end(options.input);
  }
  const { stdout } = await child;
  return stdout;
}

/** Runs a reference CLI (in-toto-run, in-toto-verify, …) and returns its exit code and output. */
export async function runReferenceCli(
  name: string,
  args: string[],
  options: { cwd?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileP(`${REFERENCE_BIN}/${name}`, args, { cwd: options.cwd, maxBuffer: 256 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    if (typeof err.code !== 'number') throw e;
    return { code: err.code, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}
