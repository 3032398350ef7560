import type { Layout } from '../intoto/models/types.js';
import { DEFAULT_MAX_LINK_BYTES } from '../intoto/verify/limits.js';
import { memorySource } from '../intoto/verify/source.js';
import { loadStepLinks } from '../intoto/verify/step-links.js';

/** Whether one link counts for its step, as verification would decide; if not, why. */
export type LinkVerdict = { readonly counts: true } | { readonly counts: false; readonly reason: string };

/** Judges the link `bytes` of `step`, held under `path` (`<step>.<keyid[:8]>.link`, as a folder would name it). */
export type LinkJudge = (step: string, path: string, bytes: Buffer) => Promise<LinkVerdict>;

export interface LinkJudgeOptions {
  /** The verification time (VerifyOptions.verifyTime); now when absent. */
  readonly verifyTime?: Date;
  readonly intermediateCerts?: readonly string[];
  readonly maxLinkBytes?: number;
}

/**
 * A judge of single links for the store's chain walk, made of verification's own step code
 * (intoto/verify/step-links.ts) run on that one link: it counts when it is signed by a functionary key of
 * its step, or by a certificate meeting the step's constraints at the verification time or a trusted
 * token's time — signature, certificate chain, timestamps and constraints, exactly as `verify` will check
 * them again. What a judged link cannot be is a decoy: one uploaded with a stolen store token under a
 * functionary's keyid, with a signature that does not hold, or by a key the layout does not know.
 */
export function linkJudge(layout: Layout, options: LinkJudgeOptions = {}): LinkJudge {
  const steps = new Map(layout.steps.map((s) => [s.name, s]));
  const maxLinkBytes = options.maxLinkBytes ?? DEFAULT_MAX_LINK_BYTES;
  const load = {
    maxLinkBytes,
    time: options.verifyTime ?? new Date(),
    timeGiven: options.verifyTime !== undefined,
    intermediateCerts: options.intermediateCerts ?? [],
  };
  return async (name, path, bytes) => {
    const step = steps.get(name);
    if (step === undefined) return { counts: false, reason: `names step '${name}', which the layout does not have` };
    // memorySource hands the parser a copy: parsing may rewrite what it reads (canonical in place)
    const result = await loadStepLinks(layout, step, memorySource({ [path]: bytes }, maxLinkBytes), '', load);
    if ([...result.signers.values()].some((s) => s.file === path)) return { counts: true };
    const why = [...result.errors, ...result.ignored].find((p) => p.file === path)?.reason;
    return { counts: false, reason: why ?? `is signed by no functionary of step '${name}' (${path})` };
  };
}
