import type { Layout, Link, Metablock, MetablockSignature, Signature } from './types.js';
import { canonicalJsonBytes } from '../../crypto/canonical-json.js';
import { envelopePayload, parseEnvelope, signEnvelope, verifyEnvelope, type DsseEnvelope } from '../../crypto/dsse.js';
import { GpgPublicKey } from '../../crypto/gpg/public-key.js';
import { copyGpgSignature, gpgSignatureProblems, isGpgSignature, type GpgSignature } from '../../crypto/gpg/signature.js';
import { canonicalBytes } from '../../crypto/identity-cache.js';
import type { PublicKey } from '../../crypto/keys.js';
import type { Signer } from '../../crypto/signer.js';
import { copyTimestamps, timestampsProblem, type SignatureTimestamp } from '../../crypto/signature-timestamps.js';
import { EvidentError, isEvidentError } from '../../errors.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { readRegularFile } from '../../util/regular-file.js';
import { parseStrictJson } from '../../util/strict-json.js';
import { checkLayout } from './layout.js';
import { checkLink } from './link.js';
import { checkKnownFields, describeType, isHex, isObject, join, Problems } from './problems.js';
import { pythonJsonDumps } from './python-json.js';
import { checkPayloadLink, IN_TOTO_PAYLOAD_TYPE, linkToStatement } from './statement-link.js';

/** Metadata as read from a file: a classic `{signed, signatures}` metablock, or a DSSE envelope of a link. */
export type MetadataFile =
  | { readonly format: 'metablock'; readonly metablock: Metablock }
  | { readonly format: 'dsse'; readonly envelope: DsseEnvelope; readonly link: Link };

/**
 * A DSSE envelope whose payload is a layout (in-toto-golang and Python in-toto 2.x write these). Only
 * what reads a layout to verify asks for it (parseAnyMetadata): evidence is links, never layouts.
 */
export interface DsseLayoutFile {
  readonly format: 'dsse';
  readonly envelope: DsseEnvelope;
  readonly layout: Layout;
}

/** Any metadata a verifier reads: a MetadataFile or a DSSE-wrapped layout. */
export type AnyMetadataFile = MetadataFile | DsseLayoutFile;

/** Larger metadata is refused before it is read: a link of 10⁶ artifacts is ~200 MB. */
export const DEFAULT_MAX_METADATA_BYTES = 256 * 1024 * 1024;

/**
 * Reads a link or layout: a metablock (`{"signed", "signatures"}`) or a DSSE envelope whose payload is
 * an in-toto Statement v1 with the link predicate v0.3, or the link itself. Strict: floats and unknown fields are refused,
 * every problem is reported at once, and a file above `maxBytes` is refused before it is read.
 *
 * @example const m = await loadMetadataFile('root.layout'); if (m.format === 'metablock') m.metablock.signed
 * @throws EvidentError TOO_LARGE, BAD_INPUT (a ValidationError listing every problem)
 */
export async function loadMetadataFile(path: string, options: { maxBytes?: number; displayName?: string } = {}): Promise<MetadataFile> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_METADATA_BYTES;
  const file = options.displayName ?? path;
  const read = await readRegularFile(path, maxBytes);
  if (read.kind === 'not-regular') throw new EvidentError('BAD_INPUT', read.problem, { file });
  if (read.kind === 'too-large')
    throw new EvidentError('TOO_LARGE', `is ${read.size} bytes, more than the ${maxBytes} bytes metadata may have`, { file });
  const bytes = read.bytes;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new EvidentError('BAD_INPUT', 'is not valid UTF-8', { file });
  }
  return parseMetadata(parseStrictJson(text, file), file);
}

/** As loadMetadataFile, for a JSON value already parsed (with parseStrictJson). A DSSE-wrapped layout is refused here. */
export function parseMetadata(value: unknown, file?: string): MetadataFile {
  const parsed = parseAnyMetadata(value, file);
  if ('layout' in parsed) {
    throw new EvidentError('BAD_INPUT', 'is a DSSE-wrapped layout, where a link or a metablock layout was expected', { file });
  }
  return parsed;
}

/** As parseMetadata, also reading a DSSE envelope whose payload is a layout (for verification). */
export function parseAnyMetadata(value: unknown, file?: string): AnyMetadataFile {
  if (isObject(value) && 'payloadType' in value) return parseDsse(value, file);
  const problems = new Problems();
  const metablock = checkMetablock(value, problems);
  problems.throwIfAny(file);
  return { format: 'metablock', metablock: metablock as Metablock };
}

function checkMetablock(value: unknown, problems: Problems): Metablock | undefined {
  if (!isObject(value)) {
    problems.add('', `in-toto metadata is a JSON object {"signed": …, "signatures": […]}, not ${describeType(value)}`);
    return undefined;
  }
  checkKnownFields(value, ['signed', 'signatures'], '', problems);
  const signatures = checkSignatures(value.signatures, problems);
  const signed = value.signed;
  let parsed: Link | Layout | undefined;
  // Problems inside `signed` are reported by their path within it (`steps[1].threshold`), as users know it.
  if (isObject(signed) && signed._type === 'link') parsed = checkLink(signed, '', problems);
  else if (isObject(signed) && signed._type === 'layout') parsed = checkLayout(signed, '', problems);
  else if (signed === undefined) problems.add('signed', 'is missing');
  else
    problems.add(
      isObject(signed) ? '_type' : 'signed',
      `must be a link or a layout (_type "link" or "layout"), not ${isObject(signed) ? (JSON.stringify(signed._type) ?? 'missing') : describeType(signed)}`,
    );
  if (parsed === undefined || signatures === undefined) return undefined;
  return { signed: parsed, signatures };
}

function checkSignatures(value: unknown, problems: Problems): MetablockSignature[] | undefined {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    problems.add('signatures', `must be a list, not ${describeType(value)}`);
    return undefined;
  }
  const before = problems.size;
  const out = value.map((s, i): MetablockSignature => {
    const at = join('signatures', i);
    if (!isObject(s)) {
      problems.add(at, `a signature is an object {"keyid", "sig"}, not ${describeType(s)}`);
      return s as Signature;
    }
    if (isGpgSignature(s)) {
      // the Python reference's OpenPGP signature (crypto/gpg/signature.ts)
      const found = gpgSignatureProblems(s);
      for (const [field, what] of found) problems.add(join(at, field), what);
      return found.length > 0 ? (s as GpgSignature) : copyGpgSignature(s);
    }
    checkKnownFields(s, ['keyid', 'sig', 'cert', 'timestamps'], at, problems);
    if (!isHex(s.keyid)) problems.add(join(at, 'keyid'), `must be a keyid (hex), not ${JSON.stringify(s.keyid) ?? 'missing'}`);
    if (!isHex(s.sig)) problems.add(join(at, 'sig'), `must be a hex signature, not ${JSON.stringify(s.sig) ?? 'missing'}`);
    if (s.cert !== undefined && typeof s.cert !== 'string') problems.add(join(at, 'cert'), 'must be a PEM certificate string');
    const timestamps = s.timestamps === undefined ? undefined : timestampsProblem(s.timestamps);
    if (timestamps !== undefined) problems.add(join(at, 'timestamps'), timestamps);
    return {
      keyid: s.keyid as string,
      sig: s.sig as string,
      ...(s.cert !== undefined ? { cert: s.cert as string } : {}),
      ...(s.timestamps !== undefined ? { timestamps: copyTimestamps(s.timestamps as SignatureTimestamp[]) } : {}),
    };
  });
  return problems.size > before ? undefined : out;
}

function parseDsse(value: Record<string, unknown>, file?: string): AnyMetadataFile {
  const envelope = parseEnvelope(value, file);
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new EvidentError(
      'BAD_INPUT',
      `dsse: payloadType must be "${IN_TOTO_PAYLOAD_TYPE}", not ${JSON.stringify(envelope.payloadType)}`,
      { file },
    );
  }
  let payload: unknown;
  try {
    payload = parseStrictJson(envelopePayload(envelope).toString('utf8'));
  } catch (e) {
    throw isEvidentError(e) ? new EvidentError('BAD_INPUT', `dsse: payload: ${e.message}`, { file }) : e;
  }
  const problems = new Problems();
  if (isObject(payload) && payload._type === 'layout') {
    // in-toto-golang's and Python in-toto 2.x's DSSE layout: the layout itself is the payload
    const layout = checkLayout(payload, 'payload', problems);
    problems.throwIfAny(file);
    return { format: 'dsse', envelope, layout: layout as Layout };
  }
  const link = checkPayloadLink(payload, 'payload', problems);
  problems.throwIfAny(file);
  return { format: 'dsse', envelope, link: link as Link };
}

/** The link or layout a loaded file carries. */
export function signedOf(file: AnyMetadataFile): Link | Layout {
  if (file.format === 'metablock') return file.metablock.signed;
  return 'layout' in file ? file.layout : file.link;
}

/**
 * Signs `signed` with each key: signatures are over canonical JSON of `signed`, hex-encoded, as the
 * reference makes them. `existing` signatures are kept (`--append`), except an older one by a key that
 * signs again, which is replaced.
 */
export function signMetablock<T extends Link | Layout>(
  signed: T,
  keys: readonly Signer[],
  existing: readonly MetablockSignature[] = [],
): Metablock<T> {
  if (keys.length === 0) throw new EvidentError('BAD_USAGE', 'signing needs at least one key');
  const bytes = canonicalJsonBytes(signed);
  const fresh = keys.map((key): MetablockSignature => {
    // an OpenPGP signer writes the reference's `{keyid, other_headers, signature}`
    if (key.metablockSignature !== undefined) return key.metablockSignature(bytes);
    const signature: Signature = { keyid: key.keyid, sig: key.sign(bytes) };
    // in-toto-golang's extension: a certificate signer names itself by its certificate
    if (key.certificate !== undefined) signature.cert = key.certificate;
    return signature;
  });
  const renewed = new Set(fresh.map((s) => s.keyid));
  return { signed, signatures: [...existing.filter((s) => !renewed.has(s.keyid)), ...fresh] };
}

/**
 * Whether `key` signed the metablock. As the reference does, only the first signature carrying the
 * key's keyid counts: a missing or invalid one is a failure.
 */
export function verifyMetablockSignature(metablock: Metablock, key: PublicKey): boolean {
  return verifySignedBytes(() => signableBytes(metablock.signed), metablock.signatures, key);
}

/**
 * The rule of verifyMetablockSignature, over the signed bytes: given, for a link file read canonical as
 * written (the link itself is not at hand as an object), or made only when a signature asks for them.
 */
export function verifySignedBytes(
  signedBytes: Buffer | (() => Buffer),
  signatures: readonly MetablockSignature[],
  key: PublicKey,
): boolean {
  // an OpenPGP key: its own signature or a subkey's, in the OpenPGP form, by a key not expired
  if (key instanceof GpgPublicKey) return key.signedMetablock(signatures, signedBytes);
  const signature = signatures.find((s) => s.keyid === key.keyid);
  if (signature === undefined || signature.sig === undefined) return false;
  return key.verify(typeof signedBytes === 'function' ? signedBytes() : signedBytes, signature.sig);
}

/**
 * The bytes signatures are over: canonical JSON of `signed`. A layout is checked against several keys and
 * a big link's canonical form takes a while, so it is encoded once per object (crypto/identity-cache.ts):
 * do not change `signed` after passing it.
 */
export function signableBytes(signed: Link | Layout): Buffer {
  return canonicalBytes.get(signed, canonicalJsonBytes);
}

/**
 * Records the canonical bytes of `signed` when they are already known (read off the file's text), so
 * a large link is not encoded again. Only for an object just made from those very bytes.
 */
export function primeSignableBytes(signed: Link | Layout, bytes: Buffer): void {
  canonicalBytes.remember(signed, bytes);
}

/** Whether `key` signed the file, in either format. */
export function verifyMetadataSignature(file: AnyMetadataFile, key: PublicKey): boolean {
  if (file.format === 'metablock') return verifyMetablockSignature(file.metablock, key);
  return verifyEnvelope(file.envelope, [key]).length > 0;
}

/**
 * A DSSE envelope of `link` signed by each key: its payload a Statement v1 with the link predicate v0.3
 * (the default), or with `payload: 'link'` the link itself, as in-toto-golang and Python in-toto 2.x write
 * it. Either payload is plain JSON, as Python in-toto writes it: OLPC canonical JSON escapes only `"` and
 * `\`, so a command's stdout with a newline or another control character would make the payload JSON no
 * reader accepts. DSSE signs the payload's bytes as they are, so nothing needs them canonical.
 */
export function signLinkEnvelope(link: Link, keys: readonly Signer[], options: { payload?: 'statement' | 'link' } = {}): DsseEnvelope {
  const payload = options.payload === 'link' ? link : linkToStatement(link);
  return signEnvelope(IN_TOTO_PAYLOAD_TYPE, Buffer.from(JSON.stringify(payload), 'utf8'), [...keys]);
}

/** The exact bytes the reference's `Metablock.dump` writes (Python json.dumps, indent 1, sorted keys). */
export function serializeMetablock(metablock: Metablock): string {
  return pythonJsonDumps({ signatures: metablock.signatures, signed: metablock.signed });
}

/** A DSSE envelope as written to a file (two-space indented JSON, as in-toto-golang writes it). */
export function serializeEnvelope(envelope: DsseEnvelope): string {
  return `${JSON.stringify(envelope, null, 2)}\n`;
}

/** Writes a metablock or envelope atomically. */
export async function writeMetadataFile(path: string, metadata: Metablock | DsseEnvelope): Promise<void> {
  const text = 'payloadType' in metadata ? serializeEnvelope(metadata) : serializeMetablock(metadata);
  await writeFileAtomic(path, text, 0o644);
}
