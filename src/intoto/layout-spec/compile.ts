import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { KeyDict } from '../../crypto/key-dict.js';
import { loadPublicKey } from '../../crypto/key-files.js';
import type { PublicKey } from '../../crypto/keys.js';
import { EvidentError, isEvidentError } from '../../errors.js';
import { parseLayout } from '../models/layout.js';
import { ValidationError } from '../models/problems.js';
import type { Layout } from '../models/types.js';
import { compileExpires, defaultExpires } from './expires.js';
import { rootEntries } from './roots.js';
import { SpecReader, type At } from './spec-reader.js';
import { compileItems, type ItemContext } from './items.js';

const TOP_KEYS = ['expires', 'readme', 'keys', 'roots', 'steps', 'inspections'] as const;
const MAX_SPEC_BYTES = 16 * 1024 * 1024;

export interface CompileOptions {
  /** The name problems are reported under (default: `path` as given). */
  displayName?: string;
  /** The clock durations such as `90d` count from (tests freeze it). */
  now?: Date;
}

/**
 * Compiles a layout spec (YAML, DESIGN.md §4) to the JSON layout the reference reads. Key and root
 * files are relative to the YAML file. Every mistake is collected and reported with its line:
 * `root.yaml:14: steps[1].materials[0]: MATCH needs WITH MATERIALS|PRODUCTS …`.
 *
 * @example const layout = await compileLayoutSpec('root.yaml'); signMetablock(layout, [ownerKey])
 * @throws ValidationError (BAD_INPUT) listing every problem, one per line
 */
export async function compileLayoutSpec(path: string, options: CompileOptions = {}): Promise<Layout> {
  const display = options.displayName ?? path;
  const size = (await stat(path)).size;
  if (size > MAX_SPEC_BYTES) throw new EvidentError('TOO_LARGE', `a layout spec may have at most ${MAX_SPEC_BYTES} bytes`, { file: display });
  const reader = new SpecReader(display, await readFile(path, 'utf8'));
  return compileSpec(reader, dirname(resolve(path)), options.now ?? new Date());
}

async function compileSpec(reader: SpecReader, baseDir: string, now: Date): Promise<Layout> {
  if (reader.problems.length > 0) throw new ValidationError(reader.sortedProblems());
  if (reader.root.node === null || reader.root.node === undefined) {
    reader.report(reader.root, 'the spec is empty; it needs at least steps');
    throw new ValidationError(reader.sortedProblems());
  }
  const top = reader.map(reader.root, TOP_KEYS, 'a layout spec') ?? new Map<string, At>();
  let expires: string | undefined = defaultExpires(now);
  const expiresAt = top.get('expires');
  if (expiresAt) {
    const text = reader.string(expiresAt, 'a duration (90d, 12h) or a date');
    const result = text === undefined ? undefined : compileExpires(text, now);
    if (result && 'problem' in result) reader.report(expiresAt, result.problem);
    expires = result && 'expires' in result ? result.expires : undefined;
  }
  const readmeAt = top.get('readme');
  const readme = readmeAt ? reader.string(readmeAt, 'text') : '';
  const keys = await loadKeys(reader, top.get('keys'), baseDir);
  const roots = await loadRoots(reader, top.get('roots'), baseDir);
  const context: ItemContext = { keys, roots: new Map([...roots].map(([name, dicts]) => [name, dicts.map((d) => d.keyid as string)])) };
  const { steps, inspections } = compileItems(reader, top.get('steps'), top.get('inspections'), context);
  if (reader.problems.length > 0) throw new ValidationError(reader.sortedProblems());

  const layout: Layout = {
    _type: 'layout',
    expires: expires as string,
    readme: readme as string,
    keys: Object.fromEntries([...keys.values()].map((key) => [key.keyid, key.toDict()])),
    steps,
    inspect: inspections,
  };
  if (roots.size > 0) layout.rootcas = Object.fromEntries([...roots.values()].flat().map((dict) => [dict.keyid as string, dict]));
  // The compiled layout must pass the same strict validation any loaded layout does.
  return parseLayout(layout);
}

async function loadKeys(reader: SpecReader, at: At | undefined, baseDir: string): Promise<Map<string, PublicKey>> {
  const out = new Map<string, PublicKey>();
  const entries = at ? reader.map(at, [], 'functionary name → public key file') : undefined;
  for (const [name, fileAt] of entries ?? []) {
    const file = reader.string(fileAt, 'the path of a public key file');
    if (file === undefined) continue;
    try {
      out.set(name, await loadPublicKey(resolve(baseDir, file)));
    } catch (e) {
      reader.report(fileAt, describeLoadError(e, file));
    }
  }
  return out;
}

async function loadRoots(reader: SpecReader, at: At | undefined, baseDir: string): Promise<Map<string, KeyDict[]>> {
  const out = new Map<string, KeyDict[]>();
  const entries = at ? reader.map(at, [], 'root name → PEM bundle file') : undefined;
  for (const [name, fileAt] of entries ?? []) {
    const file = reader.string(fileAt, 'the path of a PEM certificate bundle');
    if (file === undefined) continue;
    let text: string;
    try {
      text = await readFile(resolve(baseDir, file), 'utf8');
    } catch (e) {
      reader.report(fileAt, describeLoadError(e, file));
      continue;
    }
    const result = rootEntries(text);
    if (typeof result === 'string') reader.report(fileAt, `${file} ${result}`);
    else out.set(name, result);
  }
  return out;
}

function describeLoadError(e: unknown, file: string): string {
  if (isEvidentError(e)) return `${file}: ${e.message}`;
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `${file}: no such file (paths are relative to the spec)`;
  if (code === 'EACCES') return `${file}: permission denied`;
  throw e;
}
