import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadPublicKey } from '../crypto/key-files.js';
import type { PublicKey } from '../crypto/keys.js';
import { EvidentError } from '../errors.js';
import { loadLayoutDocument } from '../intoto/models/layout-file.js';
import { inspectionsOf, type GatePolicy } from './policy.js';
import { isObject } from '../util/json-object.js';

/** The largest policy file read: a list of file names and patterns, not data. */
const MAX_POLICY_FILE_BYTES = 1024 * 1024;

const FIELDS = new Set(['name', 'layout', 'layoutKeys', 'namespaces', 'images', 'skipInspections']);

/**
 * The gate's policies from a policy file (docs/gate.md), YAML or JSON:
 *
 *     policies:
 *       - name: payments                      # optional; default: the layout's file name
 *         layout: payments.layout             # relative to the policy file
 *         layoutKeys: [owner.pub]
 *         namespaces: [payments]              # optional; default: every namespace
 *         images: ["registry.example/payments/**"]   # optional; default: every image
 *         skipInspections: false              # optional
 *
 * Every error names the file and the field (`policies[1].layoutKeys[0]`).
 */
export async function loadPolicyFile(path: string, shown = path): Promise<GatePolicy[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new EvidentError('BAD_INPUT', `cannot read the policy file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      file: shown,
    });
  }
  if (Buffer.byteLength(text) > MAX_POLICY_FILE_BYTES) {
    throw new EvidentError('BAD_INPUT', `a policy file is at most ${MAX_POLICY_FILE_BYTES} bytes`, { file: shown });
  }
  let doc: unknown;
  try {
    // YAML 1.2 reads JSON too
    doc = parseYaml(text, { uniqueKeys: true, maxAliasCount: 0 });
  } catch (e) {
    throw new EvidentError('BAD_INPUT', `not YAML or JSON: ${(e as Error).message.split('\n')[0]}`, { file: shown });
  }
  const bad = (field: string, problem: string) => new EvidentError('BAD_INPUT', `${field}: ${problem}`, { file: shown });
  if (!isObject(doc) || !Array.isArray(doc.policies)) throw bad('policies', 'the file must have a list `policies`');
  for (const key of Object.keys(doc)) if (key !== 'policies') throw bad(key, 'unknown field (the file has only `policies`)');
  if (doc.policies.length === 0) throw bad('policies', 'the list is empty: give at least one policy');
  const base = dirname(path);
  const shownBase = dirname(shown);
  const policies: GatePolicy[] = [];
  for (const [i, entry] of (doc.policies as unknown[]).entries()) {
    const at = `policies[${i}]`;
    if (!isObject(entry)) throw bad(at, 'each policy is a mapping (layout, layoutKeys, namespaces, images, skipInspections)');
    for (const key of Object.keys(entry))
      if (!FIELDS.has(key)) throw bad(`${at}.${key}`, `unknown field (known: ${[...FIELDS].join(', ')})`);
    if (typeof entry.layout !== 'string' || entry.layout === '') throw bad(`${at}.layout`, 'the signed layout file is required');
    const keys = strings(entry.layoutKeys, `${at}.layoutKeys`, bad);
    if (keys.length === 0) throw bad(`${at}.layoutKeys`, "give the layout owners' public key files");
    if (entry.name !== undefined && (typeof entry.name !== 'string' || entry.name === '')) throw bad(`${at}.name`, 'must be a word');
    if (entry.skipInspections !== undefined && typeof entry.skipInspections !== 'boolean')
      throw bad(`${at}.skipInspections`, 'must be true or false');
    const within = (f: string) => ({ path: resolve(base, f), shown: shownBase === '.' ? f : `${shownBase}/${f}` });
    const policy = await loadPolicy(
      {
        ...(entry.name !== undefined ? { name: entry.name as string } : {}),
        layout: within(entry.layout),
        layoutKeys: keys.map(within),
        namespaces: strings(entry.namespaces ?? [], `${at}.namespaces`, bad),
        images: strings(entry.images ?? [], `${at}.images`, bad),
        skipInspections: entry.skipInspections === true,
      },
      (field, problem) => bad(`${at}.${field}`, problem),
    );
    policies.push(policy);
  }
  return policies;
}

/** A file as read (`path`) and as named in messages (`shown`, as the user wrote it). */
export interface NamedFile {
  readonly path: string;
  readonly shown: string;
}

export interface PolicySource {
  readonly name?: string;
  readonly layout: NamedFile;
  readonly layoutKeys: readonly NamedFile[];
  readonly namespaces: readonly string[];
  readonly images: readonly string[];
  readonly skipInspections: boolean;
}

/**
 * One policy from its files: `--layout F --layout-key K…` or an entry of a policy file. A layout with
 * inspections is refused unless `skipInspections` says to skip them: a gate runs no commands, and a policy
 * that relies on one must not pass silently without it.
 */
export async function loadPolicy(
  source: PolicySource,
  bad: (field: string, problem: string) => EvidentError = (field, problem) => new EvidentError('BAD_USAGE', `${field}: ${problem}`),
): Promise<GatePolicy> {
  // a metablock, or a DSSE envelope of the layout (in-toto-golang, Python in-toto 2.x), as `evident verify` reads it
  const { signed: layout, document } = await loadLayoutDocument(source.layout.path, source.layout.shown);
  const keys: PublicKey[] = [];
  for (const key of source.layoutKeys) {
    try {
      keys.push(await loadPublicKey(key.path));
    } catch (e) {
      throw e instanceof EvidentError ? e.inFile(key.shown) : new EvidentError('BAD_INPUT', (e as Error).message, { file: key.shown });
    }
  }
  const inspections = inspectionsOf(layout);
  if (inspections.length > 0 && !source.skipInspections) {
    throw bad(
      'skipInspections',
      `the layout ${source.layout.shown} has inspections (${inspections.join(', ')}) and a gate runs no commands: say skipInspections: true (--skip-inspections) to admit without them`,
    );
  }
  for (const pattern of source.images) if (pattern === '') throw bad('images', 'an empty pattern matches nothing');
  return {
    name: source.name ?? basename(source.layout.shown),
    layout,
    document,
    keys,
    namespaces: source.namespaces,
    images: source.images,
    skipInspections: source.skipInspections,
  };
}

function strings(v: unknown, field: string, bad: (field: string, problem: string) => EvidentError): string[] {
  if (!Array.isArray(v)) throw bad(field, 'must be a list of strings');
  return v.map((s, i) => {
    if (typeof s !== 'string' || s === '') throw bad(`${field}[${i}]`, 'must be a non-empty string');
    return s;
  });
}
