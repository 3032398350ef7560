import type { Command } from 'commander';
import { constants } from 'node:os';
import { EvidentError } from '../errors.js';
import type { CliContext } from './context.js';
import { addStepOptions, collectOptions, linkFormat, shownPath, stepIdentity, type StepFlags } from './step-options.js';
import { addStoreOptions, storeClient, storeUrlOf, uploadWrittenLink, type StoreFlags } from './store-options.js';
import { addTimestampOptions, signatureTimestamping, type TimestampFlags } from './timestamp-options.js';

interface RunFlags extends StepFlags, TimestampFlags, Omit<StoreFlags, 'spiffeSocket'> {
  materials?: string[];
  products?: string[];
  recordStreams?: boolean;
  noCommand?: boolean;
  timeout?: string;
  ignoreExitCode?: boolean;
  allowMissing?: boolean;
  provenance?: boolean;
}

/**
 * `evident run -n STEP -k KEY [-m …] [-p …] -- CMD…`, flag for flag as `in-toto-run`, but a failed step
 * fails: the link (the evidence of the failure) is written, then evident exits with the command's own
 * exit code, so `set -e` and CI stop there. in-toto-run exits 0; `--ignore-exit-code` does the same.
 */
export function registerRun(program: Command, ctx: CliContext): void {
  const command = program
    .command('run')
    .description('record a supply-chain step: hash materials, run the command, hash products, sign the link')
    .argument('[command...]', 'the command to run, after --')
    .option('-m, --materials <path...>', 'files or folders the step uses')
    .option('-p, --products <path...>', 'files or folders the step makes')
    .option('-s, --record-streams', "record the command's stdout and stderr in the link")
    .option('-x, --no-command', 'record materials and products without running a command')
    .option('--timeout <seconds>', 'stop the command after this many seconds')
    .option('--ignore-exit-code', 'exit 0 when the command fails, as in-toto-run does (its exit code is still recorded in the link)')
    .option('--allow-missing', 'record the step even if a -m or -p path does not exist, as in-toto-run does (default: exit 2)')
    .option(
      '--provenance',
      'also write SLSA provenance v1 for the products beside the link (<step>.<keyid[:8]>.provenance.json), signed, time-stamped and uploaded as the link is',
    );
  addStoreOptions(addTimestampOptions(addStepOptions(command), 'link'), { spiffeSocket: false, purpose: 'upload the link to' }).action(
    ctx.action(async (argv: string[], flags: RunFlags) => {
      // loaded here, not by `--help`: the recorder is most of this command's start-up
      const { runStep } = await import('../intoto/runlib/run-step.js');
      // commander's --no-command sets `command: false`; we keep the in-toto-run name
      const noCommand = (flags as { command?: boolean }).command === false;
      if (noCommand && argv.length > 0) throw new EvidentError('BAD_USAGE', 'run: -x/--no-command cannot be combined with a command');
      if (!noCommand && argv.length === 0)
        throw new EvidentError('BAD_USAGE', 'run: give the command after --, or -x to record without one');
      const timeoutMs = flags.timeout === undefined ? undefined : Number(flags.timeout) * 1000;
      if (timeoutMs !== undefined && !(timeoutMs > 0))
        throw new EvidentError('BAD_USAGE', `run: --timeout must be a positive number of seconds`);
      const timestamps = signatureTimestamping(flags, ctx, flags.quiet);
      // asked before the command runs, so a missing identity stops the step before it does anything
      const { signer } = await stepIdentity(flags, ctx);
      // so is a bad store URL or token file; an SVID signing the link is presented to an https store
      const storeUrl = storeUrlOf(flags, ctx);
      const store = storeUrl === undefined ? undefined : await storeClient(flags, ctx, storeUrl);
      const startedOn = new Date();
      const result = await runStep({
        name: flags.stepName,
        // an SVID is asked for again when the command is done: the agent renews it at half its lifetime,
        // and one taken before a long step could have expired by the time the link is signed
        signer: flags.spiffeSocket === undefined ? signer : async () => (await stepIdentity({ ...flags, verbose: false }, ctx)).signer,
        materials: flags.materials ?? [],
        products: flags.products ?? [],
        command: argv,
        recordStreams: flags.recordStreams ?? false,
        cwd: ctx.io.cwd,
        metadataDirectory: flags.metadataDirectory,
        format: linkFormat(flags),
        collect: collectOptions(flags, ctx),
        timeoutMs,
        allowMissing: flags.allowMissing ?? false,
        timestamps,
      });
      const finishedOn = new Date();
      if (!flags.quiet) ctx.err(`evident: wrote ${shownPath(ctx, result.path)}`);
      const written = [result.path];
      if (flags.provenance) {
        const [{ writeStepProvenance }, { VERSION }] = await Promise.all([
          import('../attestation/provenance-output.js'),
          import('./main.js'),
        ]);
        const path = await writeStepProvenance({
          ...result,
          linkPath: result.path,
          startedOn,
          finishedOn,
          workdir: ctx.io.cwd,
          evidentVersion: VERSION,
          timestamps,
        });
        if (!flags.quiet) ctx.err(`evident: wrote ${shownPath(ctx, path)}`);
        written.push(path);
      }
      // the failed command's link too: it is the evidence of the failure
      if (store !== undefined) {
        // as the signer: the SVID presented to the store is asked for again, one taken before a long step may have expired
        const uploader = flags.spiffeSocket === undefined ? store : await storeClient(flags, ctx, storeUrl!);
        for (const path of written) await uploadWrittenLink(uploader, path, shownPath(ctx, path), ctx, flags.quiet ?? false);
      }
      if (flags.verbose) {
        const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
        const { materials, products } = result.link;
        ctx.err(
          `evident: recorded ${count(Object.keys(materials).length, 'material')} and ${count(Object.keys(products).length, 'product')}`,
        );
      }
      const rc = result.exitCode;
      if (rc === 0) return 0;
      if (flags.ignoreExitCode) {
        if (!flags.quiet) ctx.warn(`the command ${howItEnded(rc)}; recorded in the link's byproducts (--ignore-exit-code: exit 0)`);
        return 0;
      }
      // a failure, not a warning: said even with -q
      ctx.err(
        `evident: ${flags.stepName}: the command ${howItEnded(rc)}; the link records the failure, and evident exits with ${shellExitCode(rc)}`,
      );
      return shellExitCode(rc);
    }),
  );
}

/** The exit code a shell would report: the command's own, or 128 + the signal's number when one killed it. */
function shellExitCode(rc: number): number {
  return rc < 0 ? 128 - rc : rc;
}

function howItEnded(rc: number): string {
  if (rc > 0) return `exited with ${rc}`;
  const name = Object.entries(constants.signals).find(([, n]) => n === -rc)?.[0];
  return `was killed by signal ${-rc}${name ? ` (${name})` : ''}`;
}
