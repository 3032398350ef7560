import { EvidentError } from '../errors.js';
import { IN_TOTO_PAYLOAD_TYPE, STATEMENT_V1_TYPE } from '../intoto/models/statement-link.js';

/** in-toto Attestation Framework v1: a Statement binds subjects (artifacts by digest) to a typed predicate. */
export const STATEMENT_TYPE = STATEMENT_V1_TYPE;
/** The DSSE payload type of an in-toto Statement. */
export const INTOTO_PAYLOAD_TYPE = IN_TOTO_PAYLOAD_TYPE;

export interface ResourceDescriptor {
  name: string;
  digest: Record<string, string>;
}

export interface Statement<P = unknown> {
  _type: typeof STATEMENT_TYPE;
  subject: ResourceDescriptor[];
  predicateType: string;
  predicate: P;
}

/** Validates a Statement's envelope fields (the predicate is checked by its own parser). */
export function parseStatement(value: unknown, file?: string): Statement {
  const bad = (msg: string) => new EvidentError('BAD_INPUT', `statement: ${msg}`, { file });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('a statement is a JSON object');
  const s = value as Record<string, unknown>;
  for (const k of Object.keys(s)) if (!['_type', 'subject', 'predicateType', 'predicate'].includes(k)) throw bad(`unknown field '${k}'`);
  if (s._type !== STATEMENT_TYPE) throw bad(`_type must be '${STATEMENT_TYPE}', found '${String(s._type)}'`);
  if (!Array.isArray(s.subject)) throw bad('subject must be a list');
  const subject = s.subject.map((d, i) => parseResourceDescriptor(d, `subject[${i}]`, bad));
  if (typeof s.predicateType !== 'string' || s.predicateType === '') throw bad('predicateType must be a non-empty string');
  return { _type: STATEMENT_TYPE, subject, predicateType: s.predicateType, predicate: s.predicate };
}

export function parseResourceDescriptor(value: unknown, where: string, bad: (msg: string) => Error): ResourceDescriptor {
  if (typeof value !== 'object' || value === null) throw bad(`${where} must be an object`);
  const d = value as Record<string, unknown>;
  if (typeof d.name !== 'string') throw bad(`${where}.name must be a string`);
  if (typeof d.digest !== 'object' || d.digest === null || Array.isArray(d.digest)) throw bad(`${where}.digest must be an object`);
  const digest: Record<string, string> = {};
  for (const [alg, hex] of Object.entries(d.digest as Record<string, unknown>)) {
    if (typeof hex !== 'string' || !/^[0-9a-f]+$/.test(hex)) throw bad(`${where}.digest.${alg} must be lowercase hex`);
    digest[alg] = hex;
  }
  return { name: d.name, digest };
}
