import { readdir } from 'node:fs/promises';
import type { Command } from 'commander';
import { EvidentError } from '../errors.js';
import { recordStart, recordStop } from '../intoto/runlib/record-step.js';
import type { CliContext } from './context.js';
import { addStepOptions, collectOptions, linkFormat, shownPath, stepIdentity, type StepFlags } from './step-options.js';

/** `evident record start|stop`, for steps that are not one command (as `in-toto-record`). */
export function registerRecord(program: Command, ctx: CliContext): void {
  const record = program.command('record').description('record a step that is not a single command: start before, stop after');

  const start = record
    .command('start')
    .description('hash the materials into a signed preliminary link')
    .option('-m, --materials <path...>', 'files or folders the step uses');
  addStepOptions(start).action(
    ctx.action(async (flags: StepFlags & { materials?: string[] }) => {
      const { signer } = await stepIdentity(flags, ctx);
      const path = await recordStart({
        name: flags.stepName,
        signer,
        materials: flags.materials ?? [],
        collect: collectOptions(flags, ctx),
        cwd: ctx.io.cwd,
      });
      if (!flags.quiet) ctx.err(`evident: wrote ${shownPath(ctx, path)}`);
      return 0;
    }),
  );

  const stop = record
    .command('stop')
    .description('hash the products, sign the final link, remove the preliminary one')
    .option('-p, --products <path...>', 'files or folders the step made');
  addStepOptions(stop).action(
    ctx.action(async (flags: StepFlags & { products?: string[] }) => {
      const { signer, trustsPreliminary } = await stepIdentity(flags, ctx);
      const path = await recordStop({
        name: flags.stepName,
        signer,
        trustsPreliminary,
        preliminaryKeyid: trustsPreliminary ? await preliminaryKeyid(ctx.io.cwd, flags.stepName) : undefined,
        cwd: ctx.io.cwd,
        products: flags.products ?? [],
        collect: collectOptions(flags, ctx),
        metadataDirectory: flags.metadataDirectory,
        format: linkFormat(flags),
      });
      if (!flags.quiet) ctx.err(`evident: wrote ${shownPath(ctx, path)}`);
      return 0;
    }),
  );
}

/**
 * An SVID may have rotated since `record start`, so its preliminary link is found by step name, as the
 * reference does when it is given no key: exactly one must exist.
 */
async function preliminaryKeyid(cwd: string, step: string): Promise<string | undefined> {
  const prefix = `.${step}.`;
  const found = (await readdir(cwd)).filter((f) => f.startsWith(prefix) && f.endsWith('.link-unfinished'));
  if (found.length > 1)
    throw new EvidentError(
      'BAD_USAGE',
      `found ${found.length} preliminary links for step '${step}' (${found.join(', ')}); exactly one is needed`,
    );
  return found.length === 1 ? found[0]!.slice(prefix.length, -'.link-unfinished'.length) : undefined;
}
