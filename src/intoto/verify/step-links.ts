import { PublicKey } from '../../crypto/keys.js';
import { isEvidentError } from '../../errors.js';
import { linkFileName } from '../models/link.js';
import type { Layout, Link, Step } from '../models/types.js';
import { parseSignedMetadata, parseSignedMetadataText, type SignedMetadata } from './metadata.js';
import { within, type LinkSource } from './source.js';

/** The links of one step that count: validly signed by an authorized functionary, one per key. */
export interface StepLinks {
  /** Authorized keyid → its link (or sublayout), in the order of the step's `pubkeys`. */
  readonly links: Map<string, SignedMetadata>;
  /** Keys of the layout, by keyid, that signed them (a sublayout is verified with its signer's key). */
  readonly keys: Map<string, PublicKey>;
  /** Files that were found but do not count, and why. */
  readonly ignored: { file: string; reason: string }[];
  /** A file that cannot be used at all (malformed, too large): the reference fails on it, so do we. */
  readonly errors: { file: string; reason: string }[];
}

/**
 * Loads the links of `step` as the reference's `load_links_for_layout` and
 * `verify_link_signature_thresholds` do together: for every keyid the step authorizes, the file
 * `<step>.<keyid[:8]>.link` (in `dir`) is read if it exists and kept only if that very key signed it.
 * The keyid in the file name merely says where to look; the signature decides. Files named after
 * anybody else are never read, so a link by an unauthorized key cannot count.
 */
export async function loadStepLinks(
  layout: Layout,
  step: Step,
  source: LinkSource,
  dir: string,
  maxLinkBytes: number,
): Promise<StepLinks> {
  const result: StepLinks = { links: new Map(), keys: new Map(), ignored: [], errors: [] };
  for (const keyid of new Set(step.pubkeys)) {
    const dict = Object.hasOwn(layout.keys, keyid) ? layout.keys[keyid] : undefined;
    const path = within(dir, linkFileName(step.name, keyid));
    const shown = source.describe(path);
    let key: PublicKey;
    try {
      if (dict === undefined) throw new Error('not in the layout keys');
      key = PublicKey.fromDict(dict, `keys.${keyid}`);
      if (key.keyid !== keyid) throw new Error(`the key listed under ${keyid.slice(0, 8)} has keyid ${key.keyid.slice(0, 8)}`);
    } catch (e) {
      result.errors.push({ file: shown, reason: `functionary key ${keyid.slice(0, 8)} is unusable: ${(e as Error).message}` });
      continue;
    }
    const read = await source.read(path);
    if (read.kind === 'missing') continue;
    if (read.kind === 'unreadable') {
      result.ignored.push({ file: shown, reason: `cannot be read (${read.reason})` });
      continue;
    }
    if (read.kind === 'too-large') {
      result.errors.push({ file: shown, reason: `is ${read.size} bytes, over the ${maxLinkBytes}-byte limit for link files (raise it with --max-link-size)` });
      continue;
    }
    if (read.kind === 'malformed') {
      result.errors.push({ file: shown, reason: read.reason });
      continue;
    }
    let metadata: SignedMetadata;
    try {
      metadata = read.kind === 'text' ? parseSignedMetadataText(read.text, shown, read.bytes) : parseSignedMetadata(read.value, shown);
    } catch (e) {
      if (!isEvidentError(e)) throw e;
      result.errors.push({ file: shown, reason: `is malformed: ${e.message.split('\n').join('; ')}` });
      continue;
    }
    if (!metadata.signedBy(key)) {
      result.ignored.push({ file: shown, reason: `has no valid signature by ${keyid.slice(0, 8)}` });
      continue;
    }
    result.links.set(keyid, metadata);
    result.keys.set(keyid, key);
  }
  return result;
}

/** Python `==` of two artifact dictionaries (same paths, same digests). */
export function sameArtifacts(a: Link['materials'], b: Link['materials']): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const path of keys) {
    if (!Object.hasOwn(b, path)) return false;
    const x = a[path]!;
    const y = b[path]!;
    const algs = Object.keys(x);
    if (algs.length !== Object.keys(y).length) return false;
    for (const alg of algs) if (!Object.hasOwn(y, alg) || x[alg] !== y[alg]) return false;
  }
  return true;
}
