import { EvidentError } from '../../errors.js';
import type { Layout } from '../models/types.js';
import { verifyLevel, type LayoutClock, type VerifyContext } from './level.js';
import { parseSignedMetadata, type SignedMetadata } from './metadata.js';
import { ReportBuilder } from './report.js';
import { folderSource, memorySource } from './source.js';
import type { VerificationReport, VerifyOptions } from './types.js';

import { DEFAULT_MAX_LINK_BYTES } from './limits.js';

export { DEFAULT_MAX_LINK_BYTES };
/** The reference's LINK_CMD_EXEC_TIMEOUT. */
export const DEFAULT_INSPECTION_TIMEOUT_MS = 10_000;

/**
 * Verifies a supply chain against its signed layout, as the in-toto reference's `in_toto_verify` does,
 * and returns a report of every check. A failed verification is a report with `ok: false`, never an
 * exception; only unusable input (no key, a malformed root layout, conflicting options) throws.
 *
 * A step's functionaries are the layout keys its `pubkeys` name and, with in-toto-golang's extension,
 * any certificate (carried in a signature's `cert`, e.g. an X509-SVID) that chains to the layout's
 * `rootcas` and satisfies one of its `cert_constraints`; thresholds count distinct keys (key material, not
 * keyids, which differ with the text of a key) and distinct certificate identities (SPIFFE IDs). Certificates
 * are checked at the genTime of an RFC 3161 token on their signature from a TSA the layout trusts
 * (`timestampauthorities`; a step with `require_timestamps` counts no signature without one), else at
 * `verifyTime` (default: now); layouts' expiry at `layoutTime` (default: now, or a later `verifyTime`),
 * so that back-dating the certificates' clock does not revive an expired layout.
 *
 * Order: layout signatures → expiration → each step's links (signatures, thresholds) → sublayouts →
 * command alignment (warnings) → threshold agreement → step rules; then, only when all of that passed,
 * inspections in a scratch copy of `workDir` and their rules.
 *
 * @example
 * const report = await verify({ layout: JSON.parse(readFileSync('root.layout', 'utf8')), layoutKeys: [await loadPublicKey('owner.pub')], linkDir: '.' });
 * process.stdout.write(formatReport(report));
 */
export async function verify(options: VerifyOptions): Promise<VerificationReport> {
  if (options.layoutKeys.length === 0) throw new EvidentError('BAD_USAGE', 'verifying a layout needs at least one layout key');
  if (options.linkDir !== undefined && options.links !== undefined) throw new EvidentError('BAD_USAGE', 'give linkDir or links, not both');
  const maxLinkBytes = options.maxLinkBytes ?? DEFAULT_MAX_LINK_BYTES;
  if (!Number.isSafeInteger(maxLinkBytes) || maxLinkBytes < 1)
    throw new EvidentError('BAD_USAGE', `maxLinkBytes must be a positive integer, not ${maxLinkBytes}`);
  const timeoutMs = options.inspectionTimeoutMs ?? DEFAULT_INSPECTION_TIMEOUT_MS;
  if (!(timeoutMs > 0)) throw new EvidentError('BAD_USAGE', `inspectionTimeoutMs must be positive, not ${timeoutMs}`);
  const clock = new Date();
  const now = options.verifyTime ?? clock;
  if (Number.isNaN(now.getTime())) throw new EvidentError('BAD_USAGE', 'verifyTime is not a valid date');
  if (options.layoutTime !== undefined && Number.isNaN(options.layoutTime.getTime()))
    throw new EvidentError('BAD_USAGE', 'layoutTime is not a valid date');
  if (options.product !== undefined && !/^sha256:[0-9a-f]{64}$/.test(options.product))
    throw new EvidentError('BAD_USAGE', `product must be sha256: and 64 lowercase hex digits, not ${JSON.stringify(options.product)}`);

  const root = loadRootLayout(options.layout, options.layoutFile);
  const workDir = options.workDir ?? process.cwd();
  const source =
    options.links !== undefined ? memorySource(options.links, maxLinkBytes) : folderSource(options.linkDir ?? workDir, maxLinkBytes);
  const report = new ReportBuilder();
  const progress = options.onProgress ?? (() => {});
  const ctx: VerifyContext = {
    source,
    report,
    now,
    timeGiven: options.verifyTime !== undefined,
    layoutClock: layoutClockOf(options, clock),
    maxLinkBytes,
    intermediateCerts: options.intermediateCerts ?? [],
    deferred: [],
    progress,
    ...(options.product !== undefined ? { product: options.product.slice('sha256:'.length) } : {}),
  };

  await verifyLevel(ctx, root, options.layoutKeys, { dir: '', prefix: '' });
  await inspect(ctx, options.runInspections ?? true, workDir, timeoutMs);
  return report.finish(now, options.layoutFile);
}

/**
 * When layouts' expiry is checked: `layoutTime` if given; else the current time, or `verifyTime` when
 * later. Never a `verifyTime` in the past, which exists to check certificates as of when steps ran.
 */
function layoutClockOf(options: VerifyOptions, clock: Date): LayoutClock {
  if (options.layoutTime !== undefined) return { time: options.layoutTime, source: 'layout-time' };
  if (options.verifyTime !== undefined && options.verifyTime.getTime() > clock.getTime())
    return { time: options.verifyTime, source: 'verify-time' };
  return { time: clock, source: 'current-time' };
}

function loadRootLayout(value: unknown, file: string | undefined): SignedMetadata<Layout> {
  const metadata = parseSignedMetadata(value, file);
  if (metadata.signed._type !== 'layout') {
    throw new EvidentError('BAD_INPUT', 'this is not a layout (signed._type must be "layout")', { file });
  }
  return metadata as SignedMetadata<Layout>;
}

/** Inspections run only after every signature and rule check of every level passed. */
async function inspect(ctx: VerifyContext, enabled: boolean, workDir: string, timeoutMs: number): Promise<void> {
  const all = ctx.deferred.flatMap((level) => level.inspections.map((i) => `${level.prefix}${i.name}`));
  if (all.length === 0) return;
  if (!enabled || ctx.report.failed) {
    for (const step of all) {
      ctx.report.add({
        id: 'inspection',
        ok: enabled ? false : true,
        skipped: true,
        step,
        message: enabled ? 'not run, because earlier checks failed' : 'not run (inspections disabled)',
      });
    }
    return;
  }
  // loaded only for layouts that have inspections: it brings the recording machinery with it
  const { InspectionWorkspace, runInspections } = await import('./inspections.js');
  const workspace = new InspectionWorkspace(workDir);
  try {
    for (const level of ctx.deferred) {
      if (!(await runInspections(ctx, level, { workspace, timeoutMs }))) return;
    }
  } finally {
    await workspace.dispose();
  }
}
