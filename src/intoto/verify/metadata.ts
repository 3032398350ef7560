import type { PublicKey } from '../../crypto/keys.js';
import { parseStrictJson } from '../../util/strict-json.js';
import { canonicalizeInPlace, type CanonicalDocument } from '../../crypto/canonical-from-text.js';
import { parseMetadata, primeSignableBytes, signedOf, verifyMetadataSignature, type MetadataFile } from '../models/metablock.js';
import { LINK_FIELDS } from '../models/link.js';
import type { Layout, Link } from '../models/types.js';
import { PackedArtifacts } from '../rules/packed-artifacts.js';
import { attachPackedArtifacts } from './link-artifacts.js';

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
export function parseSignedMetadataText(text: string, file?: string): SignedMetadata {
  return parseSignedMetadataBytes(Buffer.from(text, 'utf8'), file);
}

/**
 * As parseSignedMetadataText for the bytes of a file (valid UTF-8), which it may rewrite: pass a copy if
 * they are still needed. Links as the reference and evident write them are already canonically ordered:
 * they are made canonical in place (their signed bytes are then a view of the buffer, which also checks
 * every number), and their artifact lists are kept packed in those bytes rather than parsed into 10^5
 * objects (PackedArtifacts); only the rest of the document goes through JSON.parse.
 */
export function parseSignedMetadataBytes(bytes: Buffer, file?: string): SignedMetadata {
  const canonical = canonicalizeInPlace(bytes, file);
  if (canonical === undefined) return parseSignedMetadata(parseStrictJson(bytes.toString('utf8'), file), file);
  return parsePackedLink(canonical, file) ?? parseSignedMetadata(JSON.parse(canonical.bytes.toString('utf8')) as unknown, file);
}

/** A complete link whose artifact lists are both plain: parsed with the lists cut out, then given them packed. */
function parsePackedLink(canonical: CanonicalDocument, file: string | undefined): SignedMetadata | undefined {
  const { bytes, lists } = canonical;
  const { materials, products } = lists;
  if (materials === undefined || products === undefined) return undefined;
  // each list becomes {} in the text that is parsed (materials comes first: keys ascend)
  const rest =
    bytes.toString('utf8', 0, materials.start) + '{}' + bytes.toString('utf8', materials.end, products.start) + '{}' + bytes.toString('utf8', products.end);
  const value = JSON.parse(rest) as unknown;
  // validation fills in no defaults for a complete link, so its canonical bytes are those of the text
  if (!isCompleteLink((value as { signed?: unknown }).signed)) return undefined;
  const parsed = parseSignedMetadata(value, file);
  if (parsed.format !== 'metablock' || parsed.signed._type !== 'link') return undefined;
  const packedMaterials = new PackedArtifacts(bytes, materials);
  const packedProducts = new PackedArtifacts(bytes, products);
  // a name the rule refuses takes the general way, whose validation says which and why
  if (!packedMaterials.hasOnlyValidNames() || !packedProducts.hasOnlyValidNames()) return undefined;
  attachPackedArtifacts(parsed.signed, packedMaterials, packedProducts);
  primeSignableBytes(parsed.signed, bytes.subarray(canonical.signedStart, canonical.signedEnd));
  return parsed;
}

/** A link with every field present (and no other). */
function isCompleteLink(signed: unknown): boolean {
  if (typeof signed !== 'object' || signed === null) return false;
  return Object.keys(signed).length === LINK_FIELDS.length && LINK_FIELDS.every((field) => Object.hasOwn(signed, field));
}
