import type { PublicKey } from '../../crypto/keys.js';
import { parseStrictJson } from '../../util/strict-json.js';
import { canonicalSignedFromText, type CanonicalSigned } from '../../crypto/canonical-from-text.js';
import { markDigestsChecked } from '../models/link.js';
import { parseMetadata, primeSignableBytes, signedOf, verifyMetadataSignature, type MetadataFile } from '../models/metablock.js';
import type { Layout, Link } from '../models/types.js';

/** A signed link or layout, parsed and validated, that can say whether a given key signed it. */
export interface SignedMetadata<T extends Link | Layout = Link | Layout> {
  readonly signed: T;
  readonly format: MetadataFile['format'];
  /** The signature entries as written: who claims to have signed, and the certificate chain (PEM) if any. */
  readonly signatures: readonly { readonly keyid: string; readonly cert?: string }[];
  /**
   * Whether `key` made a valid signature over it. For a metablock this is the reference's rule: the
   * FIRST signature carrying the key's keyid decides. A DSSE envelope accepts any signature by the key.
   */
  signedBy(key: PublicKey): boolean;
}

/**
 * Parses a metadata document: a metablock (`{"signed", "signatures"}`, a link or a layout) or a DSSE
 * envelope carrying a link (Statement v1 with the link predicate, or the link itself).
 *
 * @throws EvidentError BAD_INPUT describing what is malformed
 */
export function parseSignedMetadata(value: unknown, file?: string): SignedMetadata {
  const parsed = parseMetadata(value, file);
  const signatures = parsed.format === 'metablock' ? parsed.metablock.signatures : parsed.envelope.signatures;
  return { signed: signedOf(parsed), format: parsed.format, signatures, signedBy: (key) => verifyMetadataSignature(parsed, key) };
}

/** Parses the text of a metadata file (strict JSON: integers only, as canonical JSON requires). */
export function parseSignedMetadataText(text: string, file?: string, utf8?: Uint8Array): SignedMetadata {
  // Links as the reference and evident write them are already canonically ordered: their signed bytes
  // come straight off the text (which also checks every number), sparing a full re-encoding.
  const canonical = canonicalSignedFromText(utf8 ?? Buffer.from(text, 'utf8'), file);
  return canonical === undefined ? fromValue(parseStrictJson(text, file), file, undefined) : fromValue(JSON.parse(text) as unknown, file, canonical);
}

/** Validates a parsed document; `canonical` is the scan of the very text it was parsed from. */
function fromValue(value: unknown, file: string | undefined, canonical: CanonicalSigned | undefined): SignedMetadata {
  if (canonical !== undefined) {
    // The scan has seen every digest of these lists, in the very text just parsed: no second walk.
    const signed = (value as { signed?: unknown }).signed as Record<string, unknown> | undefined;
    if (canonical.digestsChecked.materials) markDigestsChecked(signed!.materials as object);
    if (canonical.digestsChecked.products) markDigestsChecked(signed!.products as object);
  }
  const parsed = parseSignedMetadata(value, file);
  if (canonical !== undefined && parsed.format === 'metablock' && isCompleteLink((value as { signed?: unknown }).signed)) {
    // the validated link then holds exactly the parsed fields, so its canonical bytes are these
    primeSignableBytes(parsed.signed, canonical.bytes);
  }
  return parsed;
}

const LINK_FIELDS = ['_type', 'byproducts', 'command', 'environment', 'materials', 'name', 'products'];

/** A link with every field present: validation fills in no defaults, so it changes nothing. */
function isCompleteLink(signed: unknown): boolean {
  if (typeof signed !== 'object' || signed === null) return false;
  const keys = Object.keys(signed).sort();
  return keys.length === LINK_FIELDS.length && keys.every((k, i) => k === LINK_FIELDS[i]);
}
