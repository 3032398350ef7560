import { EvidentError } from '../errors.js';
import { SLSA_VSA_PREDICATE_TYPE } from '../intoto/models/expected-vsa.js';
import { parseMetadata } from '../intoto/models/metablock.js';
import type { Layout, Link } from '../intoto/models/types.js';
import { parseStrictJson } from '../util/strict-json.js';
import type { ChainWalk, EvidenceReader } from './chain.js';
import type { StoreDigest } from './digest.js';

/** An attestation fetched from the store, under the name verification reads it by (`<digest>.json`, beside the links). */
export interface FetchedAttestation {
  readonly path: string;
  readonly digest: StoreDigest;
  readonly bytes: Buffer;
}

export interface AttestationSearch {
  readonly attestations: readonly FetchedAttestation[];
  /** How many searches were made. */
  readonly searches: number;
  /** Digests not searched for: an item's artifacts past MAX_ATTESTATION_SEARCHES. */
  readonly unsearched: number;
}

/** Searches for attestations, at most: one per distinct artifact digest of the steps that expect them. */
export const MAX_ATTESTATION_SEARCHES = 1000;

/**
 * The attestations the layout's expected predicates (docs/policy.md) may be satisfied by, found in the
 * store as a folder would hold them: for each step that expects some, the sha256 digests of its links'
 * products, then materials (an attestation is about what a step used or made, and verification counts
 * only one whose subject shares a digest with them), and the product itself (what inspections look at),
 * each searched as a subject; the DSSE envelopes of an expected predicate type are fetched. Who signed
 * them is for verification to decide, as for links. A layout with a step whose evidence is a VSA has the
 * VSAs about any link's products or materials fetched too (what such a step's next step used). At most
 * `maxItems` are fetched (the limit on links).
 */
export async function findChainAttestations(
  store: EvidenceReader,
  layout: Pick<Layout, 'steps' | 'inspect'>,
  walk: ChainWalk,
  product: StoreDigest,
  maxItems: number,
): Promise<AttestationSearch> {
  const types = new Set<string>();
  const expecting = new Set<string>();
  for (const item of [...layout.steps, ...layout.inspect]) {
    for (const p of item.expected_predicates ?? []) {
      types.add(p.predicate_type);
      if (item._type === 'step') expecting.add(item.name);
    }
  }
  // a VSA standing for a step is about an artifact some other step used: every link's artifacts are searched
  const takesVsas = layout.steps.some((s) => s.expected_vsa !== undefined);
  if (takesVsas) types.add(SLSA_VSA_PREDICATE_TYPE);
  const digests: StoreDigest[] = [product];
  const seen = new Set<string>(digests);
  const add = (hashes: Record<string, string>) => {
    const hex = hashes.sha256;
    if (typeof hex !== 'string' || !/^[0-9a-f]{64}$/.test(hex)) return;
    const digest: StoreDigest = `sha256:${hex}`;
    if (!seen.has(digest)) {
      seen.add(digest);
      digests.push(digest);
    }
  };
  for (const fetched of walk.links.values()) {
    // a link that does not count says nothing about what the chain made (a decoy may list any digest)
    if (walk.unsound.has(fetched.path)) continue;
    const link = linkOf(fetched.bytes);
    if (link === undefined || !(takesVsas || expecting.has(link.name))) continue;
    for (const hashes of Object.values(link.products)) add(hashes);
    for (const hashes of Object.values(link.materials)) add(hashes);
  }
  const searched = digests.slice(0, MAX_ATTESTATION_SEARCHES);
  const attestations: FetchedAttestation[] = [];
  const fetched = new Set<string>();
  for (const digest of searched) {
    for (const item of await store.queryAll({ digest, role: 'subject' }, maxItems)) {
      if (item.kind !== 'dsse' || item.predicateType === undefined || !types.has(item.predicateType) || fetched.has(item.digest)) continue;
      fetched.add(item.digest);
      if (fetched.size > maxItems) {
        throw new EvidentError(
          'TOO_LARGE',
          `store ${store.shown}: the chain has more than ${maxItems} attestations (raise --max-store-links)`,
        );
      }
      const bytes = await store.get(item.digest);
      if (bytes !== undefined) attestations.push({ path: `${item.digest}.json`, digest: item.digest, bytes });
    }
  }
  return { attestations, searches: searched.length, unsearched: digests.length - searched.length };
}

/** The link stored bytes hold, or undefined (the walk kept only links it could read). */
function linkOf(bytes: Buffer): Link | undefined {
  try {
    const file = parseMetadata(parseStrictJson(bytes.toString('utf8')));
    if (file.format === 'dsse') return file.link;
    return file.metablock.signed._type === 'link' ? file.metablock.signed : undefined;
  } catch {
    return undefined;
  }
}
