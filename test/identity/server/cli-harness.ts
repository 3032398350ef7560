import { Command, CommanderError } from 'commander';
import { CliContext } from '../../../src/cli/context.js';
import { registerServer } from '../../../src/cli/server.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `evident server …` in-process the way src/cli/main.ts does (same context, same error mapping),
 * with only the server command registered, so these tests do not depend on the command list.
 */
export async function runServerCli(argv: string[], env: NodeJS.ProcessEnv = {}, cwd = process.cwd()): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io = { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, env, cwd };
  const ctx = new CliContext(io);
  const program = new Command('evident').exitOverride().configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
  registerServer(program, ctx);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return { code: e.code === 'commander.helpDisplayed' ? 0 : 2, stdout, stderr };
    return { code: ctx.report(e), stdout, stderr };
  }
  return { code: ctx.exitCode, stdout, stderr };
}
