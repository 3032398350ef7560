// Runs `evident server …` in-process through main(), with an empty environment unless given one.
import { runCli, type CliResult } from '../../helpers/cli.js';

export type { CliResult };

export function runServerCli(argv: string[], env: NodeJS.ProcessEnv = {}, cwd = process.cwd()): Promise<CliResult> {
  return runCli(argv, { env, cwd });
}
