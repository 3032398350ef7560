// Runs `evident image|sbom|scan …` in-process through main(), with an empty environment unless given one.
import { runCli, type CliResult } from '../helpers/cli.js';

export type Captured = CliResult;

export function run(argv: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Captured> {
  return runCli(argv, { cwd: options.cwd, env: options.env ?? {} });
}
