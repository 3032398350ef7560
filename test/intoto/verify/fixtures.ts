/**
 * Builds signed in-toto metadata for the verification tests straight from canonical JSON and real keys,
 * so the tests depend on nothing but the crypto layer.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalJsonBytes } from '../../../src/crypto/canonical-json.js';
import { pythonJsonDumps } from '../../../src/intoto/models/python-json.js';
import { signEnvelope } from '../../../src/crypto/dsse.js';
import { generatePrivateKey } from '../../../src/crypto/key-files.js';
import type { PrivateKey } from '../../../src/crypto/keys.js';
import type { ArtifactDict, Inspection, Layout, Link, Metablock, Step } from '../../../src/intoto/models/types.js';

const keyCache: PrivateKey[] = [];

/** The n-th test key (ed25519, generated once per process). */
export function testKey(n: number): PrivateKey {
  while (keyCache.length <= n) keyCache.push(generatePrivateKey('ed25519'));
  return keyCache[n]!;
}

export function sha256(content: string): string {
  return createHash('sha256').update(content).digest('hex');
}

/** An artifact dictionary from path → file content. */
export function artifacts(files: Record<string, string>): ArtifactDict {
  const out: ArtifactDict = {};
  for (const [path, content] of Object.entries(files)) out[path] = { sha256: sha256(content) };
  return out;
}

/** A rule from its one-line form (no quoting needed in these tests). */
export function rule(text: string): string[] {
  return text.split(' ');
}

export interface StepSpec {
  name: string;
  keys: PrivateKey[];
  threshold?: number;
  materials?: string[];
  products?: string[];
  command?: string[];
}

export function step(spec: StepSpec): Step {
  return {
    _type: 'step',
    name: spec.name,
    threshold: spec.threshold ?? 1,
    expected_materials: (spec.materials ?? []).map(rule),
    expected_products: (spec.products ?? []).map(rule),
    pubkeys: spec.keys.map((k) => k.keyid),
    expected_command: spec.command ?? [],
  };
}

export function inspection(name: string, run: string[], materials: string[] = [], products: string[] = []): Inspection {
  return { _type: 'inspection', name, run, expected_materials: materials.map(rule), expected_products: products.map(rule) };
}

export function layout(steps: Step[], functionaries: PrivateKey[], options: { expires?: string; inspect?: Inspection[] } = {}): Layout {
  const keys: Layout['keys'] = {};
  for (const k of functionaries) keys[k.keyid] = k.publicKey.toDict();
  return { _type: 'layout', expires: options.expires ?? '2100-01-01T00:00:00Z', readme: '', keys, steps, inspect: options.inspect ?? [] };
}

export function link(name: string, parts: { materials?: ArtifactDict; products?: ArtifactDict; command?: string[] } = {}): Link {
  return {
    _type: 'link',
    name,
    command: parts.command ?? [],
    materials: parts.materials ?? {},
    products: parts.products ?? {},
    byproducts: {},
    environment: {},
  };
}

export function sign<T extends Link | Layout>(signed: T, keys: PrivateKey[]): Metablock<T> {
  const bytes = canonicalJsonBytes(signed);
  return { signed, signatures: keys.map((k) => ({ keyid: k.keyid, sig: k.sign(bytes) })) };
}

/** A link in a DSSE envelope carrying an in-toto Statement v1 with the link predicate v0.3. */
export function signDsse(l: Link, key: PrivateKey): object {
  const descriptors = (a: ArtifactDict) => Object.entries(a).map(([name, digest]) => ({ name, digest }));
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: descriptors(l.products),
    predicateType: 'https://in-toto.io/attestation/link/v0.3',
    predicate: {
      name: l.name,
      command: l.command,
      materials: descriptors(l.materials),
      byproducts: l.byproducts,
      environment: l.environment,
    },
  };
  return signEnvelope('application/vnd.in-toto+json', Buffer.from(JSON.stringify(statement)), [key]);
}

export function linkName(stepName: string, key: PrivateKey): string {
  return `${stepName}.${key.keyid.slice(0, 8)}.link`;
}

export interface TempDir {
  dir: string;
  cleanup(): Promise<void>;
}

export async function tempDir(prefix = 'evident-verify-test-'): Promise<TempDir> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes JSON as the reference writes metadata (sorted keys, indent 1), or text, at `dir/relPath`, creating folders. */
export async function put(dir: string, relPath: string, value: unknown): Promise<string> {
  const path = join(dir, relPath);
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, typeof value === 'string' ? value : pythonJsonDumps(value));
  return path;
}
