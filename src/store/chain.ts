import { EvidentError } from '../errors.js';
import { linkFileName } from '../intoto/models/link.js';
import { parseMetadata } from '../intoto/models/metablock.js';
import type { Layout, Link } from '../intoto/models/types.js';
import { parseStrictJson } from '../util/strict-json.js';
import type { EvidenceItem, StoreClient } from './client.js';
import type { StoreDigest } from './digest.js';

/** What the walk reads: a store over HTTP (StoreClient), or the store's own database for its pages. */
export type EvidenceReader = Pick<StoreClient, 'shown' | 'queryAll' | 'get'>;

/** A link fetched from the store, under the file name a folder would hold it as. */
export interface FetchedLink {
  /** `<step>.<keyid[:8]>.link`, the name verification looks for. */
  readonly path: string;
  readonly digest: StoreDigest;
  readonly bytes: Buffer;
}

export interface ChainWalk {
  /** By path; what verification reads. */
  readonly links: ReadonlyMap<string, FetchedLink>;
  /** Evidence found but not used, and why (an older link of the same step and signer, one that does not parse). */
  readonly skipped: readonly { readonly digest: StoreDigest; readonly reason: string }[];
  /** How many searches the walk made. */
  readonly searches: number;
}

export interface ChainWalkOptions {
  /** At most this many links are fetched (default 1000); more is an error naming the limit. */
  readonly maxLinks?: number;
  /** At most this many searches are made (default 10 000): a link has one per distinct material digest. */
  readonly maxSearches?: number;
  /**
   * Links of any step count, not only the layout's: the walk backwards from the product finds whatever
   * made it (what the store's pages show when no layout is configured); nothing is looked for forwards.
   */
  readonly anyStep?: boolean;
}

export const DEFAULT_MAX_STORE_LINKS = 1000;
const DEFAULT_MAX_SEARCHES = 10_000;

/**
 * Finds in the store the links the layout's steps need for one product, as a folder would hold them:
 * the links whose products contain `product`, then, backwards, for each link found the links that
 * produced its materials, and so on; only links of the layout's steps count. A step nothing in that
 * backward walk leads to (one that produced nothing the product was made from, a test step) is looked
 * for forwards: links of it that took one of the chain's artifacts as a material.
 *
 * One file per step and signer, as in a folder: when the store holds several links of one step by one
 * key, the one found first is kept: the closest to the product, and of those the newest (the store
 * answers newest first). The others are listed in `skipped`.
 *
 * Sublayouts are not followed: a step that is a sublayout finds no link here (verification then says so).
 */
export async function walkChain(
  store: EvidenceReader,
  layout: Pick<Layout, 'steps'>,
  product: StoreDigest,
  options: ChainWalkOptions = {},
): Promise<ChainWalk> {
  const maxLinks = options.maxLinks ?? DEFAULT_MAX_STORE_LINKS;
  const maxSearches = options.maxSearches ?? DEFAULT_MAX_SEARCHES;
  const steps = new Set(layout.steps.map((s) => s.name));
  const links = new Map<string, FetchedLink>();
  const skipped: { digest: StoreDigest; reason: string }[] = [];
  const fetched = new Set<string>();
  const stepsFound = new Set<string>();
  /** Every artifact digest of the chain so far, in the order found: where the forward search looks. */
  const known: StoreDigest[] = [product];
  const knownSet = new Set<string>(known);
  const searchedAs = { product: new Set<string>(), material: new Set<string>() };
  let searches = 0;

  const search = async (digest: StoreDigest, role: 'product' | 'material'): Promise<EvidenceItem[]> => {
    if (++searches > maxSearches) {
      throw new EvidentError(
        'TOO_LARGE',
        `store ${store.shown}: the chain needs more than ${maxSearches} searches; is this the layout of this product?`,
      );
    }
    return store.queryAll({ digest, role }, maxLinks);
  };

  /** Fetches and files one search result; the digests it adds to the chain are returned. */
  const take = async (item: EvidenceItem, wanted: (step: string) => boolean): Promise<StoreDigest[]> => {
    if (item.kind === 'layout' || fetched.has(item.digest)) return [];
    if (item.step !== undefined && !wanted(item.step)) return [];
    fetched.add(item.digest);
    if (fetched.size > maxLinks) {
      throw new EvidentError('TOO_LARGE', `store ${store.shown}: the chain has more than ${maxLinks} links (raise --max-store-links)`);
    }
    const bytes = await store.get(item.digest);
    if (bytes === undefined) {
      skipped.push({ digest: item.digest, reason: 'was found by the search but the store no longer has it' });
      return [];
    }
    const parsed = parseLinkBytes(bytes);
    if (typeof parsed === 'string') {
      skipped.push({ digest: item.digest, reason: parsed });
      return [];
    }
    const { link, keyids } = parsed;
    if (!wanted(link.name)) return [];
    let used = false;
    for (const keyid of keyids) {
      const path = linkFileName(link.name, keyid);
      const kept = links.get(path);
      if (kept !== undefined) {
        skipped.push({
          digest: item.digest,
          reason: `another link of step '${link.name}' by ${keyid.slice(0, 8)} (${kept.digest}) was found first`,
        });
        continue;
      }
      links.set(path, { path, digest: item.digest, bytes });
      used = true;
    }
    if (!used) return [];
    stepsFound.add(link.name);
    const added: StoreDigest[] = [];
    for (const dict of [link.materials, link.products]) {
      for (const hashes of Object.values(dict)) {
        const hex = hashes.sha256;
        if (typeof hex !== 'string' || !/^[0-9a-f]{64}$/.test(hex)) continue;
        const digest: StoreDigest = `sha256:${hex}`;
        if (knownSet.has(digest)) continue;
        knownSet.add(digest);
        known.push(digest);
        if (dict === link.materials) added.push(digest);
      }
    }
    return added;
  };

  const backwards = async (start: StoreDigest[], wanted: (step: string) => boolean): Promise<void> => {
    const queue = [...start];
    while (queue.length > 0) {
      const digest = queue.shift()!;
      if (searchedAs.product.has(digest)) continue;
      searchedAs.product.add(digest);
      for (const item of await search(digest, 'product')) queue.push(...(await take(item, wanted)));
    }
  };

  const inChain = options.anyStep === true ? () => true : (step: string) => steps.has(step);
  await backwards([product], inChain);
  if (options.anyStep === true) return { links, skipped, searches };
  // forwards, only for the steps still missing, and each newly found link walked backwards again
  for (let progress = true; progress;) {
    progress = false;
    const missing = (step: string) => steps.has(step) && !stepsFound.has(step);
    if (![...steps].some(missing)) break;
    for (let i = 0; i < known.length; i++) {
      const digest = known[i]!;
      if (searchedAs.material.has(digest)) continue;
      searchedAs.material.add(digest);
      for (const item of await search(digest, 'material')) {
        const before = stepsFound.size;
        const added = await take(item, missing);
        if (stepsFound.size > before) progress = true;
        await backwards(added, inChain);
      }
    }
  }
  return { links, skipped, searches };
}

/** The link in stored bytes and the keyids that signed it, or why it cannot be one. */
function parseLinkBytes(bytes: Buffer): { link: Link; keyids: string[] } | string {
  try {
    const file = parseMetadata(parseStrictJson(bytes.toString('utf8')));
    if (file.format === 'dsse') return { link: file.link, keyids: unique(file.envelope.signatures.map((s) => s.keyid)) };
    if (file.metablock.signed._type !== 'link') return 'is a layout, not a link';
    return { link: file.metablock.signed, keyids: unique(file.metablock.signatures.map((s) => s.keyid)) };
  } catch (e) {
    return `is not a link the verifier can read (${(e as Error).message.split('\n')[0]})`;
  }
}

function unique(keyids: readonly string[]): string[] {
  return [...new Set(keyids.filter((k) => typeof k === 'string' && k.length >= 8))];
}
