import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { registerKeygen } from './keygen.js';

/** Every CLI command, one file each; this list is the only place that knows them all. */
export function registerCommands(program: Command, ctx: CliContext): void {
  registerKeygen(program, ctx);
}
