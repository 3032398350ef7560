import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { untilStopSignal } from './stop-signal.js';

/** `evident demo [--workdir DIR] [--keep] [--tpm]`: the seed's pipeline end to end, attacks included. */
export function registerDemo(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description('secure a Hello World pipeline with evident, verify it from an evidence store, and show that attacks are caught')
    .option('--workdir <dir>', 'work in this folder (kept afterwards) instead of a temporary one')
    .option('--keep', 'afterwards, keep the evidence store serving the verified image until Ctrl-C, and keep the work folder')
    .option('--json', 'print the outcome as JSON on stdout')
    .option('--tpm', 'attest the two CI runners with TPM 2.0 simulators (needs swtpm) instead of join tokens')
    .action(
      ctx.action(async (flags: { workdir?: string; keep?: boolean; json?: boolean; tpm?: boolean }) => {
        // loaded here, not by `--help`: the demo pulls in most of evident
        const { runDemo } = await import('../demo/hello-world.js');
        const say = (line: string) => (flags.json ? ctx.err(line) : ctx.out(line));
        let printed = false;
        const print = (result: object) => {
          if (flags.json && !printed) ctx.out(JSON.stringify(result, null, 2));
          printed = true;
        };
        const result = await runDemo({
          workdir: flags.workdir,
          keep: flags.keep,
          ...(flags.tpm ? { tpm: true } : {}),
          log: say,
          // the store (and the identity plane) run until this resolves
          ...(flags.keep
            ? {
                whileUp: async (r) => {
                  print(r);
                  say(`\nthe evidence store keeps serving the verified image: ${r.imagePage}`);
                  say('press Ctrl-C to stop');
                  await untilStopSignal();
                },
              }
            : {}),
        });
        print(result);
        if (flags.keep && flags.workdir === undefined) ctx.err(`evident: kept ${result.workdir}`);
        return result.honestPassed && result.honestLaterPassed && result.attacks.every((a) => a.caught) && result.gatePassed ? 0 : 1;
      }),
    );
}
