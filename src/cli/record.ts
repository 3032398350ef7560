import type { Command } from 'commander';
import { recordStart, recordStop } from '../intoto/runlib/record-step.js';
import type { CliContext } from './context.js';
import { addStepOptions, collectOptions, linkFormat, signingKey, type StepFlags } from './step-options.js';

/** `evident record start|stop`, for steps that are not one command (as `in-toto-record`). */
export function registerRecord(program: Command, ctx: CliContext): void {
  const record = program.command('record').description('record a step that is not a single command: start before, stop after');

  const start = record.command('start').description('hash the materials into a signed preliminary link').option('-m, --materials <path...>', 'files or folders the step uses');
  addStepOptions(start).action(
    ctx.action(async (flags: StepFlags & { materials?: string[] }) => {
      const path = await recordStart({ name: flags.stepName, key: await signingKey(flags), materials: flags.materials ?? [], collect: collectOptions(flags, ctx) });
      if (!flags.quiet) ctx.err(`evident: wrote ${path}`);
      return 0;
    }),
  );

  const stop = record.command('stop').description('hash the products, sign the final link, remove the preliminary one').option('-p, --products <path...>', 'files or folders the step made');
  addStepOptions(stop).action(
    ctx.action(async (flags: StepFlags & { products?: string[] }) => {
      const path = await recordStop({
        name: flags.stepName,
        key: await signingKey(flags),
        products: flags.products ?? [],
        collect: collectOptions(flags, ctx),
        metadataDirectory: flags.metadataDirectory,
        format: linkFormat(flags),
      });
      if (!flags.quiet) ctx.err(`evident: wrote ${path}`);
      return 0;
    }),
  );
}
