import { EvidentError } from '../errors.js';
import { linkFileName } from '../intoto/models/link.js';
import { parseMetadata } from '../intoto/models/metablock.js';
import type { Layout, Link } from '../intoto/models/types.js';
import { parseStrictJson } from '../util/strict-json.js';
import type { EvidenceItem, StoreClient } from './client.js';
import type { StoreDigest } from './digest.js';
import type { LinkJudge, LinkVerdict } from './link-judge.js';

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
  /**
   * The links among `links` that do not count for their step (by the walk's judge), by path, with why: the
   * only ones found for their step and signer, handed to verification so that it says what is wrong with
   * them. The walk searched for nothing on their word.
   */
  readonly unsound: ReadonlyMap<string, string>;
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
  /**
   * Judges each link before the walk takes it (link-judge.ts, verification's own checks of one link). A
   * link that does not count for its step takes no place from one that does, and the walk looks for
   * nothing on its word: a decoy uploaded with a stolen store token can neither displace the real link nor
   * send the walk after thousands of materials it lists. Only when a step has no link that counts are
   * such links followed, at most DIAGNOSIS_SEARCHES searches, for verification to say what is wrong with
   * the evidence there is. Without a judge every readable link counts (the store's pages without a layout).
   */
  readonly judge?: LinkJudge;
}

export const DEFAULT_MAX_STORE_LINKS = 1000;
const DEFAULT_MAX_SEARCHES = 10_000;
/** Searches behind links that do not count, for a step no link counts for: enough to show an edited chain, no more. */
export const DIAGNOSIS_SEARCHES = 32;

/**
 * Finds in the store the links the layout's steps need for one product, as a folder would hold them:
 * the links whose products contain `product`, then, backwards, for each link found the links that
 * produced its materials, and so on; only links of the layout's steps count. A step nothing in that
 * backward walk leads to (one that produced nothing the product was made from, a test step) is looked
 * for forwards: links of it that took one of the chain's artifacts as a material.
 *
 * One file per step and signer, as in a folder: when the store holds several links of one step by one
 * key, the first found that counts (options.judge) is kept: the closest to the product, and of those the
 * newest (the store answers newest first). The others are listed in `skipped`.
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

  const unsound = new Map<string, string>();
  /** The material digests of the links that did not count: where the diagnosis starts. */
  const doubted: StoreDigest[] = [];

  /**
   * Fetches and files one search result. Returns undefined for what is not a wanted link; else whether it
   * counts, and its materials' digests (for a counted link, only those new to the chain).
   */
  const take = async (item: EvidenceItem, wanted: (step: string) => boolean): Promise<Taken | undefined> => {
    if (item.kind === 'layout' || fetched.has(item.digest)) return undefined;
    if (item.step !== undefined && !wanted(item.step)) return undefined;
    fetched.add(item.digest);
    if (fetched.size > maxLinks) {
      throw new EvidentError('TOO_LARGE', `store ${store.shown}: the chain has more than ${maxLinks} links (raise --max-store-links)`);
    }
    const bytes = await store.get(item.digest);
    if (bytes === undefined) {
      skipped.push({ digest: item.digest, reason: 'was found by the search but the store no longer has it' });
      return undefined;
    }
    const parsed = parseLinkBytes(bytes);
    if (typeof parsed === 'string') {
      skipped.push({ digest: item.digest, reason: parsed });
      return undefined;
    }
    const { link, keyids } = parsed;
    if (!wanted(link.name)) return undefined;
    let counted = false;
    for (const keyid of keyids) {
      const path = linkFileName(link.name, keyid);
      const kept = links.get(path);
      if (kept !== undefined && !unsound.has(path)) {
        skipped.push({
          digest: item.digest,
          reason: `another link of step '${link.name}' by ${keyid.slice(0, 8)} (${kept.digest}) was found first`,
        });
        continue;
      }
      const verdict = options.judge === undefined ? COUNTS : await options.judge(link.name, path, bytes);
      if (!verdict.counts) {
        // the first found stays for verification to explain, until one that counts takes its place
        if (kept === undefined) {
          links.set(path, { path, digest: item.digest, bytes });
          unsound.set(path, verdict.reason);
        } else skipped.push({ digest: item.digest, reason: verdict.reason });
        continue;
      }
      if (kept !== undefined) skipped.push({ digest: kept.digest, reason: unsound.get(path)! });
      unsound.delete(path);
      links.set(path, { path, digest: item.digest, bytes });
      counted = true;
    }
    if (!counted) return { counted, materials: digestsOf(link.materials) };
    stepsFound.add(link.name);
    const added: StoreDigest[] = [];
    for (const dict of [link.materials, link.products]) {
      for (const digest of digestsOf(dict)) {
        if (knownSet.has(digest)) continue;
        knownSet.add(digest);
        known.push(digest);
        if (dict === link.materials) added.push(digest);
      }
    }
    return { counted, materials: added };
  };

  /** Walks back from `start`; links that do not count are not followed, their materials kept for the diagnosis. */
  const backwards = async (start: StoreDigest[], wanted: (step: string) => boolean): Promise<void> => {
    const queue = [...start];
    while (queue.length > 0) {
      const digest = queue.shift()!;
      if (searchedAs.product.has(digest)) continue;
      searchedAs.product.add(digest);
      for (const item of await search(digest, 'product')) {
        const taken = await take(item, wanted);
        if (taken !== undefined) (taken.counted ? queue : doubted).push(...taken.materials);
      }
    }
  };

  const inChain = options.anyStep === true ? () => true : (step: string) => steps.has(step);
  await backwards([product], inChain);
  if (options.anyStep === true) return { links, unsound, skipped, searches };
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
        const taken = await take(item, missing);
        if (stepsFound.size > before) progress = true;
        if (taken?.counted) await backwards(taken.materials, inChain);
        else if (taken !== undefined) doubted.push(...taken.materials);
      }
    }
  }
  // the diagnosis: for a step no link counts for, a few searches behind the links that did not count, so
  // that verification can say what is wrong with them (an edited chain: each link's signature); whatever
  // is found there fills only such steps' places. Verification fails whatever it finds (a step has no link
  // that counts), so the diagnosis is best effort: past a limit it stops, and the walk's answer stands.
  const unfound = new Set([...steps].filter((step) => !stepsFound.has(step)));
  try {
    for (let left = DIAGNOSIS_SEARCHES; left > 0 && doubted.length > 0 && unfound.size > 0;) {
      const digest = doubted.shift()!;
      if (searchedAs.product.has(digest)) continue;
      searchedAs.product.add(digest);
      left--;
      for (const item of await search(digest, 'product'))
        doubted.push(...((await take(item, (step) => unfound.has(step)))?.materials ?? []));
    }
  } catch (e) {
    if (!(e instanceof EvidentError) || e.code !== 'TOO_LARGE') throw e;
  }
  return { links, unsound, skipped, searches };
}

interface Taken {
  readonly counted: boolean;
  readonly materials: StoreDigest[];
}

const COUNTS: LinkVerdict = { counts: true };

/** The sha256 digests an artifact dictionary names, as the store indexes them. */
function digestsOf(dict: Link['materials']): StoreDigest[] {
  const out: StoreDigest[] = [];
  for (const hashes of Object.values(dict)) {
    const hex = hashes.sha256;
    if (typeof hex === 'string' && /^[0-9a-f]{64}$/.test(hex)) out.push(`sha256:${hex}`);
  }
  return out;
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
