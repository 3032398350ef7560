import { EvidentError } from '../errors.js';
import type { ArtifactDict, Link } from '../intoto/models/types.js';
import { parseResourceDescriptor, STATEMENT_TYPE, type ResourceDescriptor, type Statement } from './statement.js';

/** The in-toto link predicate v0.3: a link's evidence, with its products as the statement's subjects. */
export const LINK_PREDICATE_TYPE = 'https://in-toto.io/attestation/link/v0.3';

export interface LinkPredicate {
  name: string;
  command: string[];
  materials: ResourceDescriptor[];
  byproducts: Record<string, unknown>;
  environment: Record<string, unknown>;
}

function descriptors(artifacts: ArtifactDict): ResourceDescriptor[] {
  return Object.keys(artifacts)
    .sort()
    .map((name) => ({ name, digest: { ...artifacts[name] } }));
}

function artifactDict(list: ResourceDescriptor[], where: string, file?: string): ArtifactDict {
  const out: ArtifactDict = {};
  for (const d of list) {
    if (Object.hasOwn(out, d.name)) throw new EvidentError('BAD_INPUT', `statement: ${where} names '${d.name}' twice`, { file });
    out[d.name] = d.digest;
  }
  return out;
}

export function linkToStatement(link: Link): Statement<LinkPredicate> {
  return {
    _type: STATEMENT_TYPE,
    subject: descriptors(link.products),
    predicateType: LINK_PREDICATE_TYPE,
    predicate: {
      name: link.name,
      command: link.command,
      materials: descriptors(link.materials),
      byproducts: link.byproducts,
      environment: link.environment,
    },
  };
}

/** The link a link-predicate statement carries, so verification treats both forms alike. */
export function statementToLink(statement: Statement, file?: string): Link {
  const bad = (msg: string) => new EvidentError('BAD_INPUT', `link predicate: ${msg}`, { file });
  if (statement.predicateType !== LINK_PREDICATE_TYPE) throw bad(`predicateType must be '${LINK_PREDICATE_TYPE}', found '${statement.predicateType}'`);
  const p = statement.predicate as Record<string, unknown> | null;
  if (typeof p !== 'object' || p === null || Array.isArray(p)) throw bad('predicate must be an object');
  for (const k of Object.keys(p)) if (!['name', 'command', 'materials', 'byproducts', 'environment'].includes(k)) throw bad(`unknown field '${k}'`);
  if (typeof p.name !== 'string' || p.name === '') throw bad('name must be a non-empty string');
  const command = p.command ?? [];
  if (!Array.isArray(command) || !command.every((c) => typeof c === 'string')) throw bad('command must be a list of strings');
  const materials = p.materials ?? [];
  if (!Array.isArray(materials)) throw bad('materials must be a list');
  const object = (v: unknown, name: string): Record<string, unknown> => {
    if (v === undefined) return {};
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(`${name} must be an object`);
    return v as Record<string, unknown>;
  };
  return {
    _type: 'link',
    name: p.name,
    command: command as string[],
    materials: artifactDict(materials.map((m, i) => parseResourceDescriptor(m, `materials[${i}]`, bad)), 'materials', file),
    products: artifactDict(statement.subject, 'subject', file),
    byproducts: object(p.byproducts, 'byproducts'),
    environment: object(p.environment, 'environment'),
  };
}
