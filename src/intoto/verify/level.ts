import type { PublicKey } from '../../crypto/keys.js';
import type { Inspection, Layout } from '../models/types.js';
import { indexArtifacts } from '../rules/apply.js';
import type { LinkArtifacts } from '../rules/types.js';
import {
  checkCommandAlignment,
  checkExpiration,
  checkRootExpiry,
  checkItemRules,
  checkLayoutSignatures,
  checkNames,
  checkProduct,
  checkStepLinks,
  checkThresholdAgreement,
  type Level,
  type StepLinkSets,
} from './level-checks.js';
import type { IndexedLink } from './indexed-link.js';
import type { SignedMetadata } from './metadata.js';
import type { ReportBuilder } from './report.js';
import { within, type LinkSource } from './source.js';

/** Shared by every layout level of one verification. */
export interface VerifyContext {
  readonly source: LinkSource;
  readonly report: ReportBuilder;
  readonly now: Date;
  /** Whether `now` was given (--verify-time) rather than taken from the clock; the report says which. */
  readonly timeGiven: boolean;
  /** When layouts' expiry is checked: a clock of its own (VerifyOptions.layoutTime). */
  readonly layoutClock: LayoutClock;
  readonly maxLinkBytes: number;
  /** VerifyOptions.intermediateCerts. */
  readonly intermediateCerts: readonly string[];
  /** Inspections wait here until every signature of every level has been checked. */
  readonly deferred: DeferredInspections[];
  /** Says which long stage begins (VerifyOptions.onProgress). */
  readonly progress: (stage: string) => void;
  /** The sha256 (hex) of the final product, which a root step must have made (VerifyOptions.product). */
  readonly product?: string;
}

/** The time layouts' expiry is checked at, and where it came from (the report says). */
export interface LayoutClock {
  readonly time: Date;
  readonly source: 'layout-time' | 'verify-time' | 'current-time';
}

/** One level's inspections and the step links their rules may refer to. */
export interface DeferredInspections {
  readonly prefix: string;
  readonly inspections: readonly Inspection[];
  readonly stepLinks: ReadonlyMap<string, LinkArtifacts>;
  /** The level's layout and folder, where the attestations its inspections expect are (attestations.ts). */
  readonly layout: Layout;
  readonly dir: string;
}

export type { Level };

/**
 * Verifies one layout (the root, or a sublayout standing for a step) in the reference's order, then the
 * attestations its steps expect (evident's `expected_predicates`, attestations.ts). Each
 * stage reports its checks; a stage whose failure leaves nothing trustworthy to go on ends the level.
 * Inspections are queued on the context, not run. Returns the link summarizing the level (the first
 * step's materials, the last step's products), or undefined when its links could not be established.
 */
export async function verifyLevel(
  ctx: VerifyContext,
  metadata: SignedMetadata<Layout>,
  keys: readonly PublicKey[],
  level: Level,
): Promise<IndexedLink | undefined> {
  const layout = metadata.signed;
  if (!checkLayoutSignatures(ctx, metadata, keys, level)) return undefined;
  checkExpiration(ctx, layout, level);
  await checkRootExpiry(ctx, layout, level);
  if (!checkNames(ctx, layout, level)) return undefined;
  const found = await checkStepLinks(ctx, layout, level);
  if (found === undefined) return undefined;
  const links = await verifySublayouts(ctx, found, level);
  if (links === undefined) return undefined;
  checkCommandAlignment(ctx, layout, links, level);
  if (!checkThresholdAgreement(ctx, layout, links, found, level)) return undefined;

  // As the reference's reduce_chain_links: the first link (in `pubkeys` order) stands for its step.
  const reduced = new Map(layout.steps.map((s) => [s.name, links.get(s.name)![0]!]));
  const stepLinks = new Map<string, LinkArtifacts>();
  for (const [name, link] of reduced) stepLinks.set(name, link.artifacts);
  for (const s of layout.steps) checkItemRules(ctx, `${level.prefix}${s.name}`, s, stepLinks);
  if (level.name === undefined && ctx.product !== undefined) checkProduct(ctx, layout, stepLinks, ctx.product);
  const expecting = layout.steps.filter((s) => s.expected_predicates !== undefined);
  if (expecting.length > 0) {
    // CEL and the attestation checks are loaded only for a layout whose steps expect attestations
    const { checkAttestations } = await import('./attestations.js');
    const items = expecting.map((s) => ({ item: s, shown: `${level.prefix}${s.name}`, artifacts: stepLinks.get(s.name)! }));
    await checkAttestations(ctx, layout, level.dir, items);
  }
  if (layout.inspect.length > 0)
    ctx.deferred.push({ prefix: level.prefix, inspections: layout.inspect, stepLinks, layout, dir: level.dir });
  return summarize(layout, reduced, level.name ?? '');
}

/**
 * A step's "link" may be a layout signed by its functionary: it is verified (recursively, with that key
 * alone, its links in `<step>.<keyid[:8]>/`) and replaced by its summary link.
 */
async function verifySublayouts(ctx: VerifyContext, found: StepLinkSets, level: Level): Promise<Map<string, IndexedLink[]> | undefined> {
  const out = new Map<string, IndexedLink[]>();
  let ok = true;
  for (const [stepName, set] of found) {
    const links: IndexedLink[] = [];
    for (const [id, item] of set.links) {
      if (item.signed._type === 'link') {
        links.push(item.signed);
        continue;
      }
      const shown = `${level.prefix}${stepName}`;
      // only a functionary key of the layout signs a sublayout (step-links.ts refuses certificate-signed ones)
      const keyid = set.signers.get(id)!.key.keyid;
      const summary = await verifyLevel(ctx, item as SignedMetadata<Layout>, [set.signers.get(id)!.key], {
        dir: within(level.dir, `${stepName}.${keyid.slice(0, 8)}`),
        prefix: `${shown}/`,
        name: shown,
      });
      if (summary === undefined) {
        ok = false;
        ctx.report.add({ id: 'sublayout', ok: false, step: shown, message: `sublayout by ${keyid.slice(0, 8)} could not be verified` });
      } else {
        links.push({ ...summary, name: stepName });
      }
    }
    out.set(stepName, links);
  }
  return ok ? out : undefined;
}

/** The reference's get_summary_link: what a sublayout hands up to the step it stands for. */
function summarize(layout: Layout, reduced: Map<string, IndexedLink>, name: string): IndexedLink {
  if (layout.steps.length === 0) {
    return {
      _type: 'link',
      name: '',
      command: [],
      byproducts: {},
      environment: {},
      artifacts: { materials: indexArtifacts({}), products: indexArtifacts({}) },
    };
  }
  const first = reduced.get(layout.steps[0]!.name)!;
  const last = reduced.get(layout.steps[layout.steps.length - 1]!.name)!;
  const artifacts = { materials: first.artifacts.materials, products: last.artifacts.products };
  return { _type: 'link', name, command: last.command, byproducts: last.byproducts, environment: {}, artifacts };
}
