/** Runs the evident CLI in-process, as a user would from a shell, and captures what it prints. */
import { main } from '../../src/cli/main.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The environment is empty unless given (`SPIFFE_ENDPOINT_SOCKET`, `SOURCE_DATE_EPOCH` or `EVIDENT_*` on the
 * developer's machine must not change what a test sees); `stderrIsTTY` makes stderr look like a terminal,
 * where progress lines are drawn. Commands the CLI runs (`evident run -- make`) inherit the process's own.
 */
export async function runCli(
  argv: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; stderrIsTTY?: boolean } = {},
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s), isTTY: options.stderrIsTTY ?? false },
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
  });
  return { code, stdout, stderr };
}
