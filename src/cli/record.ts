import { readdir } from 'node:fs/promises';
import type { Command } from 'commander';
import { EvidentError } from '../errors.js';
import { parseDurationSeconds } from '../identity/server/duration.js';
import type { CliContext } from './context.js';
import { addStepOptions, collectOptions, linkFormat, shownPath, stepIdentity, type StepFlags } from './step-options.js';
import { addStoreOptions, storeClient, storeUrlOf, uploadWrittenLink, type StoreFlags } from './store-options.js';
import { addTimestampOptions, signatureTimestamping, type TimestampFlags } from './timestamp-options.js';

// the recorder is loaded by the actions, not by `--help`
const recorder = () => import('../intoto/runlib/record-step.js');

/** `evident record start|stop`, for steps that are not one command (as `in-toto-record`). */
export function registerRecord(program: Command, ctx: CliContext): void {
  const record = program
    .command('record')
    .description('record a step that is not a single command: start before, stop after')
    .addHelpText('after', SVID_RENEWAL_HELP);

  const start = record
    .command('start')
    .description('hash the materials into a signed preliminary link')
    .option('-m, --materials <path...>', 'files or folders the step uses')
    .option('--allow-missing', ALLOW_MISSING_HELP);
  addStepOptions(start).action(
    ctx.action(async (flags: StepFlags & { materials?: string[]; allowMissing?: boolean }) => {
      const { signer } = await stepIdentity(flags, ctx);
      const { recordStart } = await recorder();
      const path = await recordStart({
        name: flags.stepName,
        signer,
        materials: flags.materials ?? [],
        collect: collectOptions(flags, ctx),
        cwd: ctx.io.cwd,
        allowMissing: flags.allowMissing ?? false,
      });
      if (!flags.quiet) ctx.err(`evident: wrote ${shownPath(ctx, path)}`);
      return 0;
    }),
  );

  const stop = record
    .command('stop')
    .description('hash the products, sign the final link, remove the preliminary one')
    .option('-p, --products <path...>', 'files or folders the step made')
    .option('--allow-missing', ALLOW_MISSING_HELP)
    .option(
      '--max-step-duration <duration>',
      'with --spiffe-socket: the longest the step may have taken since record start (default 24h); a preliminary link signed by an SVID that expired longer ago is refused',
    )
    .addHelpText('after', SVID_RENEWAL_HELP);
  addStoreOptions(addTimestampOptions(addStepOptions(stop), 'link'), { spiffeSocket: false, purpose: 'upload the link to' }).action(
    ctx.action(
      async (
        flags: StepFlags &
          TimestampFlags &
          Omit<StoreFlags, 'spiffeSocket'> & { products?: string[]; maxStepDuration?: string; allowMissing?: boolean },
      ) => {
        const maxStep = maxStepDurationMs(flags.maxStepDuration);
        const timestamps = signatureTimestamping(flags, ctx, flags.quiet);
        const { signer, identity } = await stepIdentity(flags, ctx);
        if (maxStep !== undefined && identity === undefined) {
          throw new EvidentError('BAD_USAGE', '--max-step-duration bounds how old an earlier SVID may be: it needs --spiffe-socket');
        }
        const storeUrl = storeUrlOf(flags, ctx);
        const store = storeUrl === undefined ? undefined : await storeClient(flags, ctx, storeUrl);
        const { recordStop } = await recorder();
        const path = await recordStop({
          name: flags.stepName,
          signer,
          identity,
          maxStepDurationMs: maxStep,
          preliminaryKeyid: identity ? await preliminaryKeyid(ctx.io.cwd, flags.stepName) : undefined,
          cwd: ctx.io.cwd,
          products: flags.products ?? [],
          collect: collectOptions(flags, ctx),
          metadataDirectory: flags.metadataDirectory,
          format: linkFormat(flags),
          allowMissing: flags.allowMissing ?? false,
          timestamps,
        });
        if (!flags.quiet) ctx.err(`evident: wrote ${shownPath(ctx, path)}`);
        if (store !== undefined) await uploadWrittenLink(store, path, shownPath(ctx, path), ctx, flags.quiet ?? false);
        return 0;
      },
    ),
  );
}

const ALLOW_MISSING_HELP = 'record the step even if a path given does not exist, as in-toto-record does (default: exit 2)';

/** The rule `record stop` follows when the SVID was renewed during the step (docs/workload-attestation.md). */
const SVID_RENEWAL_HELP = `
Signing with an SVID (--spiffe-socket): the agent renews it at half its lifetime, possibly during the
step. record stop then finishes a preliminary link signed by an earlier SVID only if that SVID
  - names exactly the same SPIFFE ID as the SVID signing now,
  - chains to the trust bundle the Workload API gives now for that trust domain, checked at the last
    instant the chain was valid (now, or when it expired: an SVID signs only while it is valid),
  - expired at most --max-step-duration (default 24h) ago, when record start can have run,
and the preliminary link's signature verifies with that SVID's key. A preliminary link signed by a
static key, by another SPIFFE ID, or by a certificate chaining elsewhere, or changed after record
start, is refused (exit 1), and the message says which.
`;

const MAX_STEP_DURATION = { seconds: 366 * 86400, name: 'a year' };

function maxStepDurationMs(value: string | undefined): number | undefined {
  return value === undefined ? undefined : parseDurationSeconds(value, '--max-step-duration', MAX_STEP_DURATION) * 1000;
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
