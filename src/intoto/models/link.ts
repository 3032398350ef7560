import { artifactNameProblem } from './artifact-name.js';
import type { ArtifactDict, Link } from './types.js';
import { checkKnownFields, describeType, isHex, isObject, join, nameProblem, Problems, stringField, stringList } from './problems.js';

/** Every field of a link's `signed`. */
export const LINK_FIELDS = ['_type', 'name', 'command', 'materials', 'products', 'byproducts', 'environment'] as const;

/**
 * Validates a link's `signed` part strictly and returns it with the reference's defaults filled in
 * (`command` [], `materials`/`products`/`byproducts`/`environment` {}), because the reference signs
 * and verifies over the defaulted object. Every problem is collected and reported at once.
 *
 * @throws ValidationError (code BAD_INPUT), one line per problem, e.g. `materials.foo.sha256: must be hex`
 */
export function parseLink(value: unknown, file?: string): Link {
  const problems = new Problems();
  const link = checkLink(value, '', problems);
  problems.throwIfAny(file);
  return link as Link;
}

export function checkLink(value: unknown, where: string, problems: Problems): Link | undefined {
  if (!isObject(value)) {
    problems.add(where, `a link is a JSON object, not ${describeType(value)}`);
    return undefined;
  }
  const before = problems.size;
  checkKnownFields(value, LINK_FIELDS, where, problems);
  if (value._type !== 'link') problems.add(join(where, '_type'), `must be "link", not ${JSON.stringify(value._type) ?? 'missing'}`);
  const name = stringField(value, 'name', where, problems, { required: true });
  if (name !== undefined) {
    const bad = nameProblem(name);
    if (bad) problems.add(join(where, 'name'), bad);
  }
  const command = value.command === undefined ? [] : stringList(value.command, join(where, 'command'), problems);
  const materials = checkArtifacts(value.materials, join(where, 'materials'), problems);
  const products = checkArtifacts(value.products, join(where, 'products'), problems);
  const byproducts = checkObject(value.byproducts, join(where, 'byproducts'), problems);
  const environment = checkObject(value.environment, join(where, 'environment'), problems);
  if (problems.size > before) return undefined;
  return {
    _type: 'link',
    name: name as string,
    command: command as string[],
    materials: materials as ArtifactDict,
    products: products as ArtifactDict,
    byproducts: byproducts as Record<string, unknown>,
    environment: environment as Record<string, unknown>,
  };
}

/** `{path: {algorithm: hexdigest}}` — securesystemslib's HASHDICT per artifact. */
export function checkArtifacts(value: unknown, where: string, problems: Problems): ArtifactDict | undefined {
  if (value === undefined) return {};
  if (!isObject(value)) {
    problems.add(where, `must be an object of artifact → {algorithm: hex digest}, not ${describeType(value)}`);
    return undefined;
  }
  // links can list millions of artifacts: no per-artifact allocation unless something is wrong
  const at = (path: string) => `${where}[${JSON.stringify(path)}]`;
  for (const path in value) {
    const badName = artifactNameProblem(path);
    if (badName !== undefined) problems.add(at(path), badName);
    const hashes = value[path];
    if (!isObject(hashes)) {
      problems.add(at(path), `must be an object of algorithm → hex digest, not ${describeType(hashes)}`);
      continue;
    }
    for (const algorithm in hashes) {
      const digest = hashes[algorithm];
      if (!isHex(digest)) problems.add(join(at(path), algorithm), `must be a hex digest, not ${JSON.stringify(digest)}`);
    }
  }
  // a freshly parsed JSON value is owned by the caller; it is returned as is, not copied
  return value as ArtifactDict;
}

function checkObject(value: unknown, where: string, problems: Problems): Record<string, unknown> | undefined {
  if (value === undefined) return {};
  if (!isObject(value)) {
    problems.add(where, `must be an object, not ${describeType(value)}`);
    return undefined;
  }
  return value;
}

/** The reference's link file name: `<step>.<first 8 hex digits of the keyid>.link`. */
export function linkFileName(step: string, keyid: string): string {
  return `${step}.${keyid.slice(0, 8)}.link`;
}
