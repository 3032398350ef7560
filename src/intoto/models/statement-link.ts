import type { ArtifactDict, Link } from './types.js';
import { checkArtifacts, checkLink } from './link.js';
import { checkKnownFields, describeType, isObject, join, nameProblem, Problems, stringList } from './problems.js';
import { setOwnEntry } from '../../util/own-entry.js';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const STATEMENT_V1_TYPE = 'https://in-toto.io/Statement/v1';
export const LINK_PREDICATE_V03 = 'https://in-toto.io/attestation/link/v0.3';

const STATEMENT_FIELDS = ['_type', 'subject', 'predicateType', 'predicate'] as const;
const PREDICATE_FIELDS = ['name', 'command', 'materials', 'byproducts', 'environment'] as const;
const DESCRIPTOR_FIELDS = ['name', 'uri', 'digest', 'content', 'downloadLocation', 'mediaType', 'annotations'] as const;

/**
 * The link a DSSE payload carries: an in-toto Statement v1 with the link predicate v0.3 (subjects are
 * the products, `predicate.materials` the materials), or — as in-toto-golang writes DSSE links — the
 * link's `signed` object itself. Returns the link for verification; the signatures stay on the envelope.
 */
export function checkPayloadLink(payload: unknown, where: string, problems: Problems): Link | undefined {
  if (isObject(payload) && payload._type === 'link') return checkLink(payload, where, problems);
  if (!isObject(payload)) {
    problems.add(where, `the payload must be an in-toto Statement, not ${describeType(payload)}`);
    return undefined;
  }
  const before = problems.size;
  checkKnownFields(payload, STATEMENT_FIELDS, where, problems);
  if (payload._type !== STATEMENT_V1_TYPE)
    problems.add(join(where, '_type'), `must be "${STATEMENT_V1_TYPE}", not ${JSON.stringify(payload._type) ?? 'missing'}`);
  if (payload.predicateType !== LINK_PREDICATE_V03) {
    problems.add(
      join(where, 'predicateType'),
      `must be "${LINK_PREDICATE_V03}" (a link), not ${JSON.stringify(payload.predicateType) ?? 'missing'}`,
    );
    return undefined;
  }
  const products = descriptors(payload.subject, join(where, 'subject'), problems);
  const predicate = payload.predicate;
  if (!isObject(predicate)) {
    problems.add(join(where, 'predicate'), `must be an object, not ${describeType(predicate)}`);
    return undefined;
  }
  const at = join(where, 'predicate');
  checkKnownFields(predicate, PREDICATE_FIELDS, at, problems);
  const name = predicate.name;
  if (typeof name !== 'string') problems.add(join(at, 'name'), `must be a string, not ${describeType(name)}`);
  else {
    const bad = nameProblem(name);
    if (bad) problems.add(join(at, 'name'), bad);
  }
  const command = predicate.command === undefined ? [] : stringList(predicate.command, join(at, 'command'), problems);
  const materials = predicate.materials === undefined ? {} : descriptors(predicate.materials, join(at, 'materials'), problems);
  for (const field of ['byproducts', 'environment'] as const) {
    if (predicate[field] !== undefined && !isObject(predicate[field]))
      problems.add(join(at, field), `must be an object, not ${describeType(predicate[field])}`);
  }
  if (problems.size > before) return undefined;
  return {
    _type: 'link',
    name: name as string,
    command: command as string[],
    materials: materials as ArtifactDict,
    products: products as ArtifactDict,
    byproducts: (predicate.byproducts ?? {}) as Record<string, unknown>,
    environment: (predicate.environment ?? {}) as Record<string, unknown>,
  };
}

/** The Statement v1 (link predicate v0.3) that carries `link`, as `evident run --format dsse` writes it. */
export function linkToStatement(link: Link): Record<string, unknown> {
  const toDescriptors = (artifacts: ArtifactDict) => Object.entries(artifacts).map(([name, digest]) => ({ name, digest: { ...digest } }));
  return {
    _type: STATEMENT_V1_TYPE,
    subject: toDescriptors(link.products),
    predicateType: LINK_PREDICATE_V03,
    predicate: {
      name: link.name,
      command: [...link.command],
      materials: toDescriptors(link.materials),
      byproducts: link.byproducts,
      environment: link.environment,
    },
  };
}

const KNOWN_DESCRIPTOR_FIELDS: ReadonlySet<string> = new Set(DESCRIPTOR_FIELDS);

function hasUnknownField(descriptor: object): boolean {
  for (const key in descriptor) if (Object.hasOwn(descriptor, key) && !KNOWN_DESCRIPTOR_FIELDS.has(key)) return true;
  return false;
}

function descriptors(value: unknown, where: string, problems: Problems): ArtifactDict | undefined {
  if (!Array.isArray(value)) {
    problems.add(where, `must be a list of resource descriptors, not ${describeType(value)}`);
    return undefined;
  }
  const dict: Record<string, unknown> = {};
  // 10^5 descriptors in a large link: the path of one is spelled out only when it has a problem
  value.forEach((d, i) => {
    if (!isObject(d)) return problems.add(join(where, i), `a resource descriptor is an object, not ${describeType(d)}`);
    if (hasUnknownField(d)) checkKnownFields(d, DESCRIPTOR_FIELDS, join(where, i), problems);
    if (typeof d.name !== 'string') return problems.add(join(join(where, i), 'name'), 'an artifact needs its name (path)');
    if (Object.hasOwn(dict, d.name)) return problems.add(join(join(where, i), 'name'), `'${d.name}' is listed twice`);
    setOwnEntry(dict, d.name, d.digest);
  });
  return checkArtifacts(dict, where, problems);
}
