// Runs `evident svid …` in-process through main(); also runnable as a script (argv → exit code), for
// the tests that feed a token on standard input to a real process.
import { main } from '../../src/cli/main.js';
import { runCli, type CliResult } from '../helpers/cli.js';

export type Captured = CliResult;

export function capture(argv: string[], env: NodeJS.ProcessEnv = {}, cwd = process.cwd()): Promise<Captured> {
  return runCli(argv, { env, cwd });
}

if (process.argv[1]?.endsWith('cli-runner.ts')) {
  process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() });
}
