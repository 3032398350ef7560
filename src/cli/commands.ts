import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { registerDemo } from './demo.js';
import { registerKeygen } from './keygen.js';
import { registerLayout } from './layout.js';
import { registerRecord } from './record.js';
import { registerRun } from './run.js';
import { registerServer } from './server.js';
import { registerSign } from './sign.js';
import { registerSvid } from './svid.js';

/** Every CLI command, one file each; this list is the only place that knows them all. */
export function registerCommands(program: Command, ctx: CliContext): void {
  registerKeygen(program, ctx);
  registerRun(program, ctx);
  registerRecord(program, ctx);
  registerSign(program, ctx);
  registerLayout(program, ctx);
  registerSvid(program, ctx);
  registerServer(program, ctx);
  registerDemo(program, ctx);
}
