/**
 * Runs the CLI in-process through `main` (src/cli/main.ts) once `sign` and `layout` are registered in
 * src/cli/commands.ts; until then through a copy of main's set-up that adds them.
 */
import { Command, CommanderError } from 'commander';
import { CliContext } from '../../../src/cli/context.js';
import { registerCommands } from '../../../src/cli/commands.js';
import { registerSign } from '../../../src/cli/sign.js';
import { registerLayout } from '../../../src/cli/layout.js';
import { main } from '../../../src/cli/main.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function registeredInMain(): boolean {
  const probe = new Command('probe');
  registerCommands(probe, new CliContext({ stdout: { write: () => true }, stderr: { write: () => true }, env: {}, cwd: '/' }));
  const names = probe.commands.map((c) => c.name());
  return names.includes('sign') && names.includes('layout');
}

const viaMain = registeredInMain();

export async function runEvident(argv: string[], options: { cwd?: string } = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: process.env,
    cwd: options.cwd ?? process.cwd(),
  };
  if (viaMain) {
    const code = await main(argv, io);
    return { code, stdout, stderr };
  }
  const ctx = new CliContext(io);
  const program = new Command('evident')
    .exitOverride()
    .configureOutput({ writeOut: (s) => (stdout += s), writeErr: (s) => (stderr += s) });
  registerCommands(program, ctx);
  const names = new Set(program.commands.map((c) => c.name()));
  if (!names.has('sign')) registerSign(program, ctx);
  if (!names.has('layout')) registerLayout(program, ctx);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return { code: e.code === 'commander.helpDisplayed' ? 0 : 2, stdout, stderr };
    return { code: ctx.report(e), stdout, stderr };
  }
  return { code: ctx.exitCode, stdout, stderr };
}
