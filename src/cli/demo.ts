import type { Command } from 'commander';
import type { CliContext } from './context.js';

/** `evident demo [--workdir DIR] [--keep]`: the seed's pipeline end to end, attacks included. */
export function registerDemo(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description('secure a Hello World pipeline with evident, verify it, and show that attacks are caught')
    .option('--workdir <dir>', 'work in this folder (kept afterwards) instead of a temporary one')
    .option('--keep', 'keep the temporary work folder')
    .option('--json', 'print the outcome as JSON on stdout')
    .action(
      ctx.action(async (flags: { workdir?: string; keep?: boolean; json?: boolean }) => {
        // loaded here, not by `--help`: the demo pulls in most of evident
        const { runDemo } = await import('../demo/hello-world.js');
        const result = await runDemo({
          workdir: flags.workdir,
          keep: flags.keep,
          log: (line) => (flags.json ? ctx.err(line) : ctx.out(line)),
        });
        if (flags.json) ctx.out(JSON.stringify(result, null, 2));
        if (flags.keep && flags.workdir === undefined) ctx.err(`evident: kept ${result.workdir}`);
        return result.honestPassed && result.honestLaterPassed && result.attacks.every((a) => a.caught) ? 0 : 1;
      }),
    );
}
