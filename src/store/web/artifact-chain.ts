import { parseMetadata } from '../../intoto/models/metablock.js';
import { parseRule } from '../../intoto/models/rule.js';
import type { Layout, Link } from '../../intoto/models/types.js';
import { ruleText } from '../../intoto/verify/describe.js';
import type { Check, VerificationReport } from '../../intoto/verify/types.js';
import { timestampClaim, type TimestampClaim } from '../../time/token.js';
import { parseStrictJson } from '../../util/strict-json.js';
import { walkChain, type ChainWalk, type EvidenceReader } from '../chain.js';
import type { StoreDigest } from '../digest.js';
import { parseEvidence, type EvidenceSigner } from '../evidence.js';
import { verifyProduct, type ProductPolicy } from '../verify-product.js';

/** The layout (and its owners' keys) whose verdict the pages show: `store serve --layout … --layout-key …`; `name` is its file name. */
export type VerdictPolicy = ProductPolicy;

/** One signature of a link, as the page shows it: who signed, and the times tokens claim for it. */
export interface SignatureView extends EvidenceSigner {
  readonly timestamps: readonly TimestampClaim[];
}

/** One link of the chain, as the page shows it. */
export interface ChainLink {
  /** The file name verification knows it by (`build.0123abcd.link`). */
  readonly path: string;
  readonly evidence: StoreDigest;
  readonly step: string;
  readonly command: readonly string[];
  readonly signatures: readonly SignatureView[];
  /** Name → sha256 hex (other algorithms are not drawn). */
  readonly materials: ReadonlyMap<string, string>;
  readonly products: ReadonlyMap<string, string>;
}

/** A step of the layout, with its rules as text, for showing which one failed. */
export interface PolicyStep {
  readonly name: string;
  readonly kind: 'step' | 'inspection';
  readonly materials: readonly string[];
  readonly products: readonly string[];
}

export interface ArtifactChain {
  readonly artifact: StoreDigest;
  readonly links: readonly ChainLink[];
  /** Evidence the walk found and did not use, and why. */
  readonly skipped: readonly { readonly digest: StoreDigest; readonly reason: string }[];
  /** With a policy: the layout's verdict over these links (inspections are not run by the store). */
  readonly verdict?: { readonly policy: string; readonly report: VerificationReport; readonly steps: readonly PolicyStep[] };
}

/**
 * The supply chain of one artifact as the store holds it: with a policy, the links `evident verify
 * --store --product` would fetch and the verdict it would give (without running inspections: a store does
 * not run commands); without one, every link found walking back from the artifact through the artifacts
 * each link consumed.
 */
export async function artifactChain(reader: EvidenceReader, artifact: StoreDigest, policy?: VerdictPolicy): Promise<ArtifactChain> {
  if (policy === undefined) {
    const walk = await walkChain(reader, { steps: [] }, artifact, { anyStep: true, maxLinks: 200 });
    // the walk went backwards from the artifact: shown forwards
    return { artifact, links: found(walk).reverse(), skipped: walk.skipped };
  }
  // the links `evident verify --store --product` would fetch, verified as it would (inspections skipped: a store runs no commands)
  const { evidence, report } = await verifyProduct(reader, policy, artifact, { runInspections: false });
  const walk = evidence.walk;
  const order = policy.layout.steps.map((s) => s.name);
  const links = found(walk)
    .reverse()
    .sort((a, b) => order.indexOf(a.step) - order.indexOf(b.step));
  return { artifact, links, skipped: walk.skipped, verdict: { policy: policy.name, report, steps: policySteps(policy.layout) } };
}

function found(walk: ChainWalk): ChainLink[] {
  return [...walk.links.values()].map((l) => chainLink(l.path, l.digest, l.bytes));
}

function chainLink(path: string, evidence: StoreDigest, bytes: Buffer): ChainLink {
  const file = parseMetadata(parseStrictJson(bytes.toString('utf8')));
  const { link, signatures } =
    file.format === 'dsse'
      ? { link: file.link, signatures: file.envelope.signatures }
      : { link: file.metablock.signed as Link, signatures: file.metablock.signatures };
  const signers = parseEvidence(bytes).signers;
  return {
    path,
    evidence,
    step: link.name,
    command: link.command,
    signatures: signatures.map((s, i) => ({
      ...signers[i]!,
      timestamps: (s.timestamps ?? []).flatMap((t) => timestampClaim(Buffer.from(t.data, 'base64')) ?? []),
    })),
    materials: sha256s(link.materials),
    products: sha256s(link.products),
  };
}

function sha256s(artifacts: Link['materials']): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, hashes] of Object.entries(artifacts)) if (typeof hashes.sha256 === 'string') out.set(name, hashes.sha256);
  return out;
}

function policySteps(layout: Layout): PolicyStep[] {
  const rules = (list: unknown[], where: string) => list.map((r, i) => ruleText(parseRule(r, `${where}[${i}]`)));
  return [
    ...layout.steps.map((s) => ({
      name: s.name,
      kind: 'step' as const,
      materials: rules(s.expected_materials, s.name),
      products: rules(s.expected_products, s.name),
    })),
    ...layout.inspect.map((s) => ({
      name: s.name,
      kind: 'inspection' as const,
      materials: rules(s.expected_materials, s.name),
      products: rules(s.expected_products, s.name),
    })),
  ];
}

/** The failed checks of one step (`step` as the report names it), in report order. */
export function failuresOf(report: VerificationReport, step: string): Check[] {
  return report.checks.filter((c) => c.step === step && !c.ok && c.skipped !== true);
}
