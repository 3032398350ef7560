import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { registerDemo } from './demo.js';
import { registerKeygen } from './keygen.js';
import { registerRecord } from './record.js';
import { registerRun } from './run.js';

/** Every CLI command, one file each; this list is the only place that knows them all. */
export function registerCommands(program: Command, ctx: CliContext): void {
  registerKeygen(program, ctx);
  registerRun(program, ctx);
  registerRecord(program, ctx);
  registerDemo(program, ctx);
}
