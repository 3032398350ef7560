import { envelopePayload, parseEnvelope, type DsseEnvelope } from '../../crypto/dsse.js';
import { isEvidentError } from '../../errors.js';
import { checkJsonDepth, parseStrictJson } from '../../util/strict-json.js';
import { IN_TOTO_PAYLOAD_TYPE, STATEMENT_V1_TYPE } from '../models/statement-link.js';
import { within, type LinkSource } from './source.js';

/** An in-toto Statement v1 as a rule sees it: the subject and predicate as written. */
export interface AttestedStatement {
  /** The resource descriptors, as JSON objects; each has a `digest` of string values. */
  readonly subject: readonly Record<string, unknown>[];
  readonly predicateType: string;
  readonly predicate: unknown;
}

/** A DSSE envelope of an in-toto Statement found beside the links. Who signed it is decided per expected predicate. */
export interface Attestation {
  /** How messages name it: the file (or the store's digest). */
  readonly file: string;
  readonly envelope: DsseEnvelope;
  readonly statement: AttestedStatement;
  /** Its subjects' digests as `alg:hex`, lowercase: what binds it to a step's artifacts. */
  readonly digests: ReadonlySet<string>;
}

const pools = new WeakMap<object, Map<string, Promise<AttestationPool>>>();

/**
 * The attestations of a level's folder, read once per verification (`ctx`) however many steps look at them:
 * the attestations items expect (attestations.ts) and the VSAs steps take as evidence (vsa-evidence.ts).
 */
export function levelAttestations(
  ctx: { readonly source: LinkSource; readonly maxLinkBytes: number },
  dir: string,
): Promise<AttestationPool> {
  let byDir = pools.get(ctx);
  if (byDir === undefined) {
    byDir = new Map();
    pools.set(ctx, byDir);
  }
  let pool = byDir.get(dir);
  if (pool === undefined) {
    pool = loadAttestations(ctx.source, dir, ctx.maxLinkBytes);
    byDir.set(dir, pool);
  }
  return pool;
}

/** The attestations of one folder of links, and the files that looked like attestations but could not be read. */
export interface AttestationPool {
  readonly attestations: readonly Attestation[];
  readonly unusable: readonly { readonly file: string; readonly reason: string }[];
}

/**
 * The attestations in the folder `dir` of the links (the layout's level): every `*.json` file directly in it
 * that is a DSSE envelope (it has `payloadType`) of an in-toto Statement v1. A `.json` file that is not an
 * envelope (an SBOM, a package.json) is not an attestation and is passed over in silence; an envelope that
 * cannot be read, or carries something else, is listed in `unusable`, which a missing attestation's message
 * names. Each file is read as a link is (a regular file, at most `maxBytes`); signatures are checked later,
 * against each expected predicate's functionaries.
 */
export async function loadAttestations(source: LinkSource, dir: string, maxBytes: number): Promise<AttestationPool> {
  const attestations: Attestation[] = [];
  const unusable: { file: string; reason: string }[] = [];
  const names = (await source.list(dir)).filter((n) => n.endsWith('.json'));
  for (const name of names) {
    const path = within(dir, name);
    const file = source.describe(path);
    const read = await source.read(path);
    switch (read.kind) {
      case 'missing':
        continue;
      case 'unreadable':
        unusable.push({ file, reason: `cannot be read (${read.reason})` });
        continue;
      case 'not-regular':
        unusable.push({ file, reason: read.problem });
        continue;
      case 'too-large':
        unusable.push({
          file,
          reason: `is ${read.size} bytes, over the ${maxBytes}-byte limit for evidence (raise it with --max-link-size)`,
        });
        continue;
      case 'malformed':
        unusable.push({ file, reason: read.reason });
        continue;
    }
    const parsed = readAttestation(read.kind === 'json' ? read.value : read.bytes, file);
    if (parsed === undefined) continue;
    if (typeof parsed === 'string') unusable.push({ file, reason: parsed });
    else attestations.push(parsed);
  }
  return { attestations, unusable };
}

/** The attestation a file holds; undefined when it is no DSSE envelope at all; why not, when it is a bad one. */
function readAttestation(content: Buffer | object, file: string): Attestation | string | undefined {
  let value: unknown;
  try {
    if (Buffer.isBuffer(content)) {
      // an envelope holds no number: a file the strict parser refuses is no envelope either
      value = parseStrictJson(content.toString('utf8'), file);
    } else {
      checkJsonDepth(content, file);
      value = content;
    }
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || !('payloadType' in value)) return undefined;
  let envelope: DsseEnvelope;
  try {
    envelope = parseEnvelope(value, file);
  } catch (e) {
    if (!isEvidentError(e)) throw e;
    return `is not a DSSE envelope: ${e.message}`;
  }
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE)
    return `carries ${JSON.stringify(envelope.payloadType)}, not an in-toto Statement (${IN_TOTO_PAYLOAD_TYPE})`;
  let payload: unknown;
  try {
    // a predicate may hold any JSON, fractions included (as the store reads it: store/evidence.ts)
    payload = JSON.parse(envelopePayload(envelope).toString('utf8'));
    checkJsonDepth(payload, file);
  } catch (e) {
    return `its payload is not JSON (${(e as Error).message.split('\n')[0]})`;
  }
  const statement = statementOf(payload);
  if (typeof statement === 'string') return `its payload is not an in-toto Statement v1: ${statement}`;
  const digests = new Set<string>();
  for (const d of statement.subject) {
    for (const [alg, hex] of Object.entries(d.digest as Record<string, string>)) digests.add(`${alg.toLowerCase()}:${hex.toLowerCase()}`);
  }
  return { file, envelope, statement, digests };
}

const STATEMENT_FIELDS = new Set(['_type', 'subject', 'predicateType', 'predicate']);

/** The in-toto Statement v1 a payload is, checked as far as rules rely on it; else what is wrong. */
function statementOf(payload: unknown): AttestedStatement | string {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return 'a Statement is a JSON object';
  const s = payload as Record<string, unknown>;
  const unknown = Object.keys(s).find((k) => !STATEMENT_FIELDS.has(k));
  if (unknown !== undefined) return `unknown field '${unknown.slice(0, 40)}'`;
  if (s._type !== STATEMENT_V1_TYPE) return `_type must be "${STATEMENT_V1_TYPE}", not ${JSON.stringify(s._type) ?? 'missing'}`;
  if (typeof s.predicateType !== 'string' || s.predicateType === '') return 'predicateType must be a non-empty string';
  if (!Array.isArray(s.subject) || s.subject.length === 0) return 'subject must be a non-empty list of resource descriptors';
  for (const [i, d] of s.subject.entries()) {
    if (typeof d !== 'object' || d === null || Array.isArray(d)) return `subject[${i}] must be an object`;
    const digest = (d as Record<string, unknown>).digest;
    if (typeof digest !== 'object' || digest === null || Array.isArray(digest)) return `subject[${i}].digest must be an object`;
    for (const [alg, hex] of Object.entries(digest)) {
      if (typeof hex !== 'string' || hex === '') return `subject[${i}].digest.${alg.slice(0, 40)} must be a digest (text)`;
    }
  }
  return { subject: s.subject as Record<string, unknown>[], predicateType: s.predicateType, predicate: s.predicate ?? null };
}
