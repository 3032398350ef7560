// Runs `evident image|sbom|scan …` in-process the way src/cli/main.ts runs every command, before the lead
// wires registerImage, registerSbom and registerScan into src/cli/commands.ts. Also runnable as a script.
import { Command, CommanderError } from 'commander';
import { CliContext, type CliIo } from '../../src/cli/context.js';
import { registerImage } from '../../src/cli/image.js';
import { registerSbom } from '../../src/cli/sbom.js';
import { registerScan } from '../../src/cli/scan.js';

export async function runSupplyCli(argv: string[], io: CliIo): Promise<number> {
  const ctx = new CliContext(io);
  const program = new Command('evident')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s), outputError: (s, write) => write(s.startsWith('error:') ? `evident: ${s}` : s) });
  registerImage(program, ctx);
  registerSbom(program, ctx);
  registerScan(program, ctx);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.code === 'commander.helpDisplayed' || e.code === 'commander.help' ? 0 : 2;
    return ctx.report(e);
  }
  return ctx.exitCode;
}

export interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

export async function run(argv: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const code = await runSupplyCli(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
  });
  return { code, stdout, stderr };
}

if (process.argv[1]?.endsWith('cli-runner.ts')) {
  process.exitCode = await runSupplyCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() });
}
