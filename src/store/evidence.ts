import { parseStatement } from '../attestation/statement.js';
import { envelopePayload, parseEnvelope } from '../crypto/dsse.js';
import { parseCertificatesPem } from '../crypto/x509/pem.js';
import { EvidentError, isEvidentError } from '../errors.js';
import { parseMetadata } from '../intoto/models/metablock.js';
import { Problems, ValidationError } from '../intoto/models/problems.js';
import { checkPayloadLink, IN_TOTO_PAYLOAD_TYPE, LINK_PREDICATE_V03 } from '../intoto/models/statement-link.js';
import type { ArtifactDict, Link } from '../intoto/models/types.js';
import { SpiffeId } from '../spiffe/spiffeid/spiffe-id.js';
import { uriSans } from '../spiffe/x509svid/rules.js';
import { checkJsonDepth, parseStrictJson } from '../util/strict-json.js';

export type EvidenceKind = 'link' | 'layout' | 'dsse';
export type ArtifactRole = 'subject' | 'material' | 'product';

/** An artifact digest the evidence names, as `alg:hex`, and in which role. */
export interface IndexedArtifact {
  readonly role: ArtifactRole;
  readonly digest: string;
  /** The file name the evidence gives it (a link's path, a subject's name), when it gives one. */
  readonly name?: string;
}

export interface EvidenceSigner {
  readonly keyid: string;
  /** The SPIFFE ID of the signature's certificate (its leaf's URI SAN), when it carries one. */
  readonly spiffeId?: string;
}

/** What the store indexes of one piece of evidence (the bytes themselves are stored as received). */
export interface EvidenceFacts {
  readonly kind: EvidenceKind;
  /** The step a link (metablock or DSSE) records. */
  readonly step?: string;
  /** The predicate type of an in-toto Statement in a DSSE envelope. */
  readonly predicateType?: string;
  readonly artifacts: readonly IndexedArtifact[];
  readonly signers: readonly EvidenceSigner[];
  /** How many RFC 3161 time-stamp tokens its signatures carry. */
  readonly timestamps: number;
}

/**
 * What a body is, checked with evident's own parsers before it is stored (a store holds evidence, not
 * arbitrary blobs): an in-toto metablock (link or layout, strict as `evident verify` reads it), or a DSSE
 * envelope of any payload type, whose in-toto Statement (if it is one) is read for its subjects and
 * predicate type, and whose link (Statement with the link predicate, or in-toto-golang's bare link) is
 * read as a link. Signatures are checked for structure (and a certificate for parsing), not for trust:
 * who is trusted is the verifier's decision, made later.
 *
 * @throws EvidentError BAD_INPUT with one line naming the problem
 */
export function parseEvidence(bytes: Uint8Array): EvidenceFacts {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw notEvidence('is not valid UTF-8');
  }
  try {
    const value = parseStrictJson(text);
    return typeof value === 'object' && value !== null && 'payloadType' in value ? dsseFacts(value) : metablockFacts(value);
  } catch (e) {
    if (e instanceof ValidationError) throw notEvidence(e.problems.join('; '));
    if (isEvidentError(e) && e.code === 'BAD_INPUT') throw notEvidence(e.message);
    throw e;
  }
}

function notEvidence(problem: string): EvidentError {
  return new EvidentError('BAD_INPUT', `not evidence: ${problem.replace(/[\r\n]+/g, ' ')}`);
}

function metablockFacts(value: unknown): EvidenceFacts {
  const file = parseMetadata(value);
  if (file.format !== 'metablock') throw new EvidentError('INTERNAL', 'a metablock parsed as DSSE');
  const { signed, signatures } = file.metablock;
  requireSignatures(signatures.length);
  const signers = signatures.map((s, i) => signer(s.keyid, s.cert, `signatures[${i}]`));
  const timestamps = signatures.reduce((n, s) => n + (s.timestamps?.length ?? 0), 0);
  if (signed._type === 'layout') return { kind: 'layout', artifacts: [], signers, timestamps };
  return { kind: 'link', step: signed.name, artifacts: linkArtifacts(signed), signers, timestamps };
}

function dsseFacts(value: object): EvidenceFacts {
  const envelope = parseEnvelope(value);
  requireSignatures(envelope.signatures.length);
  const signers = envelope.signatures.map((s, i) => signer(s.keyid, s.cert, `signatures[${i}]`));
  const timestamps = envelope.signatures.reduce((n, s) => n + (s.timestamps?.length ?? 0), 0);
  const facts = { kind: 'dsse' as const, signers, timestamps };
  // other payload types are stored as signed blobs of their type, found by signer and time
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) return { ...facts, artifacts: [] };
  const text = envelopePayload(envelope).toString('utf8');
  const payload = payloadJson(text);
  const isLink =
    typeof payload === 'object' &&
    payload !== null &&
    ((payload as Record<string, unknown>)._type === 'link' || (payload as Record<string, unknown>).predicateType === LINK_PREDICATE_V03);
  if (isLink) {
    // a link's payload is read as strictly as `evident verify` reads it (no floats, bounded depth)
    const problems = new Problems();
    const link = checkPayloadLink(parseStrictJson(text), 'payload', problems);
    problems.throwIfAny();
    const statement = (payload as Record<string, unknown>)._type !== 'link';
    return {
      ...facts,
      step: link!.name,
      ...(statement ? { predicateType: LINK_PREDICATE_V03 } : {}),
      artifacts: linkArtifacts(link!),
    };
  }
  checkJsonDepth(payload);
  const statement = parseStatement(payload);
  const artifacts = statement.subject.flatMap((d) => digests(d.digest, 'subject', d.name));
  return { ...facts, predicateType: statement.predicateType, artifacts };
}

/** An in-toto payload as JSON (a Statement's predicate may hold any JSON, floats included). */
function payloadJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new EvidentError('BAD_INPUT', `dsse: the in-toto payload is not JSON: ${(e as Error).message}`);
  }
}

function requireSignatures(n: number): void {
  if (n === 0) throw new EvidentError('BAD_INPUT', 'carries no signature (the store holds signed evidence)');
}

function linkArtifacts(link: Link): IndexedArtifact[] {
  return [...artifactDigests(link.materials, 'material'), ...artifactDigests(link.products, 'product')];
}

function artifactDigests(artifacts: ArtifactDict, role: ArtifactRole): IndexedArtifact[] {
  return Object.entries(artifacts).flatMap(([name, hashes]) => digests(hashes, role, name));
}

/** Each algorithm's digest of one artifact, as `alg:hex` (both lowercase: digests are compared as text). */
function digests(hashes: Record<string, string>, role: ArtifactRole, name: string | undefined): IndexedArtifact[] {
  return Object.entries(hashes).map(([alg, hex]) => ({
    role,
    digest: `${alg.toLowerCase()}:${hex.toLowerCase()}`,
    ...(name !== undefined && name !== '' ? { name } : {}),
  }));
}

function signer(keyid: string, cert: string | undefined, where: string): EvidenceSigner {
  if (cert === undefined) return { keyid };
  let leaf;
  try {
    leaf = parseCertificatesPem(cert)[0];
  } catch (e) {
    throw new EvidentError('BAD_INPUT', `${where}.cert: not a PEM certificate (${(e as Error).message})`);
  }
  if (leaf === undefined) throw new EvidentError('BAD_INPUT', `${where}.cert: holds no PEM certificate`);
  const uri = uriSans(leaf).find((u) => u.startsWith('spiffe://'));
  if (uri === undefined) return { keyid };
  try {
    return { keyid, spiffeId: SpiffeId.parse(uri).toString() };
  } catch {
    return { keyid };
  }
}
