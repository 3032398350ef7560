// Runs `evident svid …` in-process the way src/cli/main.ts runs every command, before the lead wires
// registerSvid into src/cli/commands.ts. Also runnable as a script (argv → exit code) for stdin tests.
import { Command, CommanderError } from 'commander';
import { CliContext, type CliIo } from '../../src/cli/context.js';
import { registerSvid } from '../../src/cli/svid.js';

export async function runSvidCli(argv: string[], io: CliIo): Promise<number> {
  const ctx = new CliContext(io);
  const program = new Command('evident').exitOverride().configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
  registerSvid(program, ctx);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.code === 'commander.helpDisplayed' ? 0 : 2;
    return ctx.report(e);
  }
  return ctx.exitCode;
}

export interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

export async function capture(argv: string[], env: NodeJS.ProcessEnv = {}, cwd = process.cwd()): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const code = await runSvidCli(argv, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, env, cwd });
  return { code, stdout, stderr };
}

if (process.argv[1]?.endsWith('cli-runner.ts')) {
  process.exitCode = await runSvidCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() });
}
