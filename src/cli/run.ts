import type { Command } from 'commander';
import { EvidentError } from '../errors.js';
import { runStep } from '../intoto/runlib/run-step.js';
import type { CliContext } from './context.js';
import { addStepOptions, collectOptions, linkFormat, shownPath, stepIdentity, type StepFlags } from './step-options.js';

interface RunFlags extends StepFlags {
  materials?: string[];
  products?: string[];
  recordStreams?: boolean;
  noCommand?: boolean;
  timeout?: string;
}

/** `evident run -n STEP -k KEY [-m …] [-p …] -- CMD…`, flag for flag as `in-toto-run`. */
export function registerRun(program: Command, ctx: CliContext): void {
  const command = program
    .command('run')
    .description('record a supply-chain step: hash materials, run the command, hash products, sign the link')
    .argument('[command...]', 'the command to run, after --')
    .option('-m, --materials <path...>', 'files or folders the step uses')
    .option('-p, --products <path...>', 'files or folders the step makes')
    .option('-s, --record-streams', "record the command's stdout and stderr in the link")
    .option('-x, --no-command', 'record materials and products without running a command')
    .option('--timeout <seconds>', 'stop the command after this many seconds');
  addStepOptions(command).action(
    ctx.action(async (argv: string[], flags: RunFlags) => {
      // commander's --no-command sets `command: false`; we keep the in-toto-run name
      const noCommand = (flags as { command?: boolean }).command === false;
      if (noCommand && argv.length > 0) throw new EvidentError('BAD_USAGE', 'run: -x/--no-command cannot be combined with a command');
      if (!noCommand && argv.length === 0)
        throw new EvidentError('BAD_USAGE', 'run: give the command after --, or -x to record without one');
      const timeoutMs = flags.timeout === undefined ? undefined : Number(flags.timeout) * 1000;
      if (timeoutMs !== undefined && !(timeoutMs > 0))
        throw new EvidentError('BAD_USAGE', `run: --timeout must be a positive number of seconds`);
      const { signer } = await stepIdentity(flags, ctx);
      const result = await runStep({
        name: flags.stepName,
        signer,
        materials: flags.materials ?? [],
        products: flags.products ?? [],
        command: argv,
        recordStreams: flags.recordStreams ?? false,
        cwd: ctx.io.cwd,
        metadataDirectory: flags.metadataDirectory,
        format: linkFormat(flags),
        collect: collectOptions(flags, ctx),
        timeoutMs,
      });
      const rc = result.link.byproducts['return-value'];
      if (typeof rc === 'number' && rc !== 0 && !flags.quiet) ctx.warn(`the command exited with ${rc}; recorded in the link's byproducts`);
      if (!flags.quiet) ctx.err(`evident: wrote ${shownPath(ctx, result.path)}`);
      return 0;
    }),
  );
}
