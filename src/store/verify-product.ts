import type { DsseEnvelope } from '../crypto/dsse.js';
import type { PublicKey } from '../crypto/keys.js';
import type { Layout, Metablock } from '../intoto/models/types.js';
import type { VerificationReport, VerifyOptions } from '../intoto/verify/types.js';
import { verify } from '../intoto/verify/verify.js';
import { findChainAttestations, type AttestationSearch } from './chain-attestations.js';
import { DEFAULT_MAX_STORE_LINKS, walkChain, type ChainWalk, type EvidenceReader } from './chain.js';
import { linkJudge, type LinkJudgeOptions } from './link-judge.js';
import type { StoreDigest } from './digest.js';

/** What the store holds about one product for a layout: its chain of links and the attestations the layout's rules are about. */
export interface ProductEvidence {
  readonly walk: ChainWalk;
  /** Searched only when a step or inspection of the layout expects predicates. */
  readonly attestations?: AttestationSearch;
  /** Path → bytes, as a folder of links would hold them: what `verify({links})` reads. */
  readonly files: Record<string, Buffer>;
}

/** A signed layout and the keys of its owners, named for messages (the file it came from). */
export interface ProductPolicy {
  readonly name: string;
  /** The layout: what the chain walk and the rules read. */
  readonly layout: Layout;
  /** The layout as signed, whose signatures verification checks: a metablock, or a DSSE envelope of it (in-toto-golang, Python in-toto 2.x). */
  readonly document: Metablock<Layout> | DsseEnvelope;
  readonly keys: readonly PublicKey[];
}

/**
 * The evidence `evident verify --store --product` verifies, fetched from the store: the links found by
 * walking the chain back from the product (chain.ts), and, when the layout expects predicates or takes a
 * VSA as a step's evidence, the attestations about the chain's artifacts (chain-attestations.ts,
 * docs/policy.md), under the names a folder would hold them by. At most `maxLinks` items of each kind are
 * fetched.
 */
export async function fetchProductEvidence(
  reader: EvidenceReader,
  layout: Layout,
  product: StoreDigest,
  options: { readonly maxLinks?: number } & LinkJudgeOptions = {},
): Promise<ProductEvidence> {
  const { maxLinks = DEFAULT_MAX_STORE_LINKS, ...judging } = options;
  // a step whose evidence is a VSA has no link to walk to: its VSA is found by digest, below
  const withLinks = layout.steps.filter((s) => s.expected_vsa === undefined);
  // each link judged as verification will judge it (at the same time), so that only evidence that counts directs the walk
  const walk = await walkChain(reader, { steps: withLinks }, product, { maxLinks, judge: linkJudge(layout, judging) });
  const files: Record<string, Buffer> = {};
  for (const link of walk.links.values()) files[link.path] = link.bytes;
  const takesVsas = withLinks.length < layout.steps.length;
  if (!takesVsas && ![...layout.steps, ...layout.inspect].some((item) => item.expected_predicates !== undefined)) return { walk, files };
  const attestations = await findChainAttestations(reader, layout, walk, product, maxLinks);
  for (const a of attestations.attestations) files[a.path] = a.bytes;
  return { walk, attestations, files };
}

/**
 * One product's verdict from the store's evidence: fetch (above), then verify against the policy's layout.
 * Inspections run only when asked (`runInspections: true`): the store's pages and the deployment gate run
 * no commands, and report the inspections as skipped.
 */
export async function verifyProduct(
  reader: EvidenceReader,
  policy: ProductPolicy,
  product: StoreDigest,
  options: { readonly maxLinks?: number } & Pick<VerifyOptions, 'runInspections' | 'verifyTime' | 'layoutTime' | 'workDir'> = {},
): Promise<{ readonly evidence: ProductEvidence; readonly report: VerificationReport }> {
  const { maxLinks, ...verifyOptions } = options;
  const evidence = await fetchProductEvidence(reader, policy.layout, product, {
    ...(maxLinks !== undefined ? { maxLinks } : {}),
    ...(options.verifyTime !== undefined ? { verifyTime: options.verifyTime } : {}),
  });
  const report = await verify({
    layout: policy.document,
    layoutFile: policy.name,
    layoutKeys: policy.keys,
    links: evidence.files,
    runInspections: false,
    ...verifyOptions,
  });
  return { evidence, report };
}
