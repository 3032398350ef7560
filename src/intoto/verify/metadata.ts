import { envelopeSignaturesBy } from '../../crypto/dsse.js';
import type { PublicKey } from '../../crypto/keys.js';
import { parseStrictJson } from '../../util/strict-json.js';
import {
  parseAnyMetadata,
  parseMetadata,
  primeSignableBytes,
  signedOf,
  verifyMetadataSignature,
  verifySignedBytes,
  type MetadataFile,
} from '../models/metablock.js';
import { LINK_FIELDS } from '../models/link.js';
import { canonicalizeMetadataInPlace, type CanonicalMetadata } from '../models/link-spans.js';
import type { Layout, Link, MetablockSignature, Signature } from '../models/types.js';
import { PackedArtifacts } from '../rules/packed-artifacts.js';
import { indexedLink, type IndexedLink } from './indexed-link.js';

/** A signed link or layout, parsed and validated, that can say whether a given key signed it. */
export interface SignedMetadata<T extends Link | Layout = Link | Layout> {
  readonly signed: T;
  readonly format: MetadataFile['format'];
  /**
   * The signature entries as written: who claims to have signed, the certificate chain (PEM) if any, its
   * RFC 3161 tokens if any; in a metablock, also the Python reference's OpenPGP entries (crypto/gpg/).
   */
  readonly signatures: readonly MetablockSignature[];
  /**
   * Whether `key` made a valid signature over it. For a metablock this is the reference's rule: the
   * FIRST signature carrying the key's keyid decides. A DSSE envelope accepts any signature by the key.
   */
  signedBy(key: PublicKey): boolean;
  /**
   * The entries by `key` that carry RFC 3161 tokens (`timestamps`), each checked to be a valid signature
   * by the key, in file order: for a metablock the one that decides (the first with the key's keyid),
   * for a DSSE envelope any by the key (at most MAX_TIMESTAMPED_ENTRIES examined). Their tokens
   * time-stamp their `sig`: hex in a metablock, base64 in an envelope (`format` says which).
   */
  timestampedBy(key: PublicKey): readonly Signature[];
}

/** DSSE entries with tokens examined per key: one key signs an envelope once, a crafted one may repeat it. */
export const MAX_TIMESTAMPED_ENTRIES = 4;

const hasTimestamps = (s: MetablockSignature): boolean => (s.timestamps?.length ?? 0) > 0;

/**
 * `signedBy` answering once per key object: timestampedBy asks again about the key whose signature was
 * just checked, and over a large link a signature costs a hash of all its bytes. The document must not
 * change after it was parsed (crypto/identity-cache.ts), so the answer cannot either.
 */
function remembered(signedBy: (key: PublicKey) => boolean): (key: PublicKey) => boolean {
  const answers = new WeakMap<PublicKey, boolean>();
  return (key) => {
    let answer = answers.get(key);
    if (answer === undefined) {
      answer = signedBy(key);
      answers.set(key, answer);
    }
    return answer;
  };
}

/**
 * A metablock's signatures with the checks verification asks of them: `signedBy` (each key's answer
 * remembered, so a large link is not verified again for its timestamps), and `timestampedBy`, the first
 * entry with the key's keyid, when it carries tokens and verifies.
 */
function metablockSigning(
  signatures: readonly MetablockSignature[],
  verify: (key: PublicKey) => boolean,
): Pick<SignedMetadata, 'signatures' | 'signedBy' | 'timestampedBy'> {
  const signedBy = remembered(verify);
  const timestampedBy = (key: PublicKey): Signature[] => {
    const first = signatures.find((s) => s.keyid === key.keyid);
    return first !== undefined && first.sig !== undefined && hasTimestamps(first) && signedBy(key) ? [first] : [];
  };
  return { signatures, signedBy, timestampedBy };
}

/**
 * A link or layout file as verification reads it: SignedMetadata whose link is an IndexedLink, its
 * artifact lists packed in the file's bytes when the file was canonical as written.
 */
export interface LoadedMetadata extends Omit<SignedMetadata, 'signed'> {
  readonly signed: IndexedLink | Layout;
}

/**
 * Parses a metadata document: a metablock (`{"signed", "signatures"}`, a link or a layout) or a DSSE
 * envelope carrying a link (Statement v1 with the link predicate, or the link itself) or a layout.
 *
 * @throws EvidentError BAD_INPUT describing what is malformed
 */
export function parseSignedMetadata(value: unknown, file?: string): SignedMetadata {
  const parsed = parseAnyMetadata(value, file);
  if (parsed.format === 'metablock') {
    return {
      signed: signedOf(parsed),
      format: parsed.format,
      ...metablockSigning(parsed.metablock.signatures, (key) => verifyMetadataSignature(parsed, key)),
    };
  }
  return {
    signed: signedOf(parsed),
    format: parsed.format,
    signatures: parsed.envelope.signatures,
    signedBy: (key) => verifyMetadataSignature(parsed, key),
    timestampedBy: (key) => envelopeSignaturesBy(parsed.envelope, key, hasTimestamps, MAX_TIMESTAMPED_ENTRIES),
  };
}

/**
 * Parses the text of a metadata file (strict JSON: integers only, as canonical JSON requires). A link
 * written canonically (as the reference and evident write it) has its signed bytes read off the text,
 * not encoded again; its artifact dictionaries are parsed in full, a `Link` being plain data.
 */
export function parseSignedMetadataText(text: string, file?: string): SignedMetadata {
  const read = readMetadataBytes(Buffer.from(text, 'utf8'), file);
  if (read.kind === 'value') return parseSignedMetadata(read.value, file);
  const { link, materials, products, signatures, signedBytes } = read;
  const signed: Link = { ...link, materials: materials.toDict(), products: products.toDict() };
  primeSignableBytes(signed, signedBytes);
  return { signed, format: 'metablock', ...metablockSigning(signatures, (key) => verifySignedBytes(signedBytes, signatures, key)) };
}

/** As parseSignedMetadata, for verification: a link's dictionaries are indexed where they are. */
export function loadSignedMetadata(value: unknown, file?: string): LoadedMetadata {
  const parsed = parseSignedMetadata(value, file);
  return parsed.signed._type === 'link' ? { ...parsed, signed: indexedLink(parsed.signed) } : (parsed as SignedMetadata<Layout>);
}

/**
 * As parseSignedMetadataText for the bytes of a file (valid UTF-8), which it may rewrite: pass a copy if
 * they are still needed. Links as the reference and evident write them are already canonically ordered:
 * they are made canonical in place (their signed bytes are then a view of the buffer, which also checks
 * every number), and their artifact lists are kept packed in those bytes rather than parsed into 10^5
 * objects (PackedArtifacts); only the rest of the document goes through JSON.parse.
 */
export function loadSignedMetadataBytes(bytes: Buffer, file?: string): LoadedMetadata {
  const read = readMetadataBytes(bytes, file);
  if (read.kind === 'value') return loadSignedMetadata(read.value, file);
  const { link, materials, products, signatures, signedBytes } = read;
  return {
    signed: indexedLink(link, { materials, products }),
    format: 'metablock',
    ...metablockSigning(signatures, (key) => verifySignedBytes(signedBytes, signatures, key)),
  };
}

/**
 * A metadata file's bytes as read: a complete link whose artifact lists are both plain, packed (its
 * `link` holds empty lists; the signatures are over `signedBytes`), or else the JSON value to validate.
 */
type ReadMetadata =
  | {
      readonly kind: 'packed';
      readonly link: Link;
      readonly materials: PackedArtifacts;
      readonly products: PackedArtifacts;
      readonly signatures: readonly MetablockSignature[];
      readonly signedBytes: Buffer;
    }
  | { readonly kind: 'value'; readonly value: unknown };

function readMetadataBytes(bytes: Buffer, file: string | undefined): ReadMetadata {
  const canonical = canonicalizeMetadataInPlace(bytes, file);
  if (canonical === undefined) return { kind: 'value', value: parseStrictJson(bytes.toString('utf8'), file) };
  return readPackedLink(canonical, file) ?? { kind: 'value', value: JSON.parse(canonical.bytes.toString('utf8')) as unknown };
}

/** A complete link whose artifact lists are both plain: parsed with the lists cut out, which are kept packed. */
function readPackedLink(canonical: CanonicalMetadata, file: string | undefined): ReadMetadata | undefined {
  const { bytes, lists } = canonical;
  const { materials, products } = lists;
  if (materials === undefined || products === undefined) return undefined;
  // each list becomes {} in the text that is parsed (materials comes first: keys ascend)
  const rest =
    bytes.toString('utf8', 0, materials.start) +
    '{}' +
    bytes.toString('utf8', materials.end, products.start) +
    '{}' +
    bytes.toString('utf8', products.end);
  const value = JSON.parse(rest) as unknown;
  // validation fills in no defaults for a complete link, so its canonical bytes are those of the text
  if (!isCompleteLink((value as { signed?: unknown }).signed)) return undefined;
  const parsed = parseMetadata(value, file);
  if (parsed.format !== 'metablock' || parsed.metablock.signed._type !== 'link') return undefined;
  const packedMaterials = new PackedArtifacts(bytes, materials);
  const packedProducts = new PackedArtifacts(bytes, products);
  // a name the rule refuses takes the general way, whose validation says which and why
  if (!packedMaterials.hasOnlyValidNames() || !packedProducts.hasOnlyValidNames()) return undefined;
  return {
    kind: 'packed',
    link: parsed.metablock.signed,
    materials: packedMaterials,
    products: packedProducts,
    signatures: parsed.metablock.signatures,
    signedBytes: bytes.subarray(canonical.signedStart, canonical.signedEnd),
  };
}

/** A link with every field present (and no other). */
function isCompleteLink(signed: unknown): boolean {
  if (typeof signed !== 'object' || signed === null) return false;
  return Object.keys(signed).length === LINK_FIELDS.length && LINK_FIELDS.every((field) => Object.hasOwn(signed, field));
}
