import { createHash } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import type { KeyDict } from '../../crypto/key-dict.js';
import { loadPublicKey } from '../../crypto/key-files.js';
import type { PublicKey } from '../../crypto/keys.js';
import { EvidentError, isEvidentError } from '../../errors.js';
import { readRegularFile } from '../../util/regular-file.js';
import { parseLayout } from '../models/layout.js';
import { ValidationError } from '../models/problems.js';
import type { Layout } from '../models/types.js';
import { compileExpires, defaultExpires } from './expires.js';
import { layoutKeyDict } from '../models/layout-keys.js';
import { rootEntries, timestampAuthorityEntries } from './roots.js';
import { SpecReader, type At } from './spec-reader.js';
import { compileItems, type ItemContext } from './items.js';
import type { SpecRule } from './predicates.js';
import type { SpecPolicyFile } from './vsa.js';
import { DEFAULT_MAX_LINK_BYTES } from '../verify/limits.js';

const TOP_KEYS = ['expires', 'readme', 'keys', 'roots', 'timestamp_authorities', 'steps', 'inspections'] as const;
/**
 * A spec is policy written by hand: 256 KiB is a thousand steps. The limit bounds the work hostile YAML
 * can cause (yaml's composer makes an error object per stray token: a second and 250 MB at this size).
 */
export const MAX_SPEC_BYTES = 256 * 1024;
/** A PEM bundle of CA certificates (a whole public CA store is a quarter of this). */
const MAX_ROOTS_BYTES = 1024 * 1024;

export interface CompileOptions {
  /** The name problems are reported under (default: `path` as given). */
  displayName?: string;
  /** The clock durations such as `90d` count from (tests freeze it). */
  now?: Date;
}

/**
 * Compiles a layout spec (YAML; docs/ARCHITECTURE.md, layout specs) to the JSON layout the reference reads. Key and root
 * files are relative to the YAML file. Every mistake is collected and reported with its line:
 * `root.yaml:14: steps[1].materials[0]: MATCH needs WITH MATERIALS|PRODUCTS …`.
 *
 * @example const layout = await compileLayoutSpec('root.yaml'); signMetablock(layout, [ownerKey])
 * @throws ValidationError (BAD_INPUT) listing every problem, one per line
 */
export async function compileLayoutSpec(path: string, options: CompileOptions = {}): Promise<Layout> {
  const display = options.displayName ?? path;
  const read = await readRegularFile(path, MAX_SPEC_BYTES);
  if (read.kind === 'not-regular') throw new EvidentError('BAD_INPUT', read.problem, { file: display });
  if (read.kind === 'too-large')
    throw new EvidentError('TOO_LARGE', `is larger than ${MAX_SPEC_BYTES} bytes, the most a layout spec may have`, { file: display });
  const reader = new SpecReader(display, read.bytes.toString('utf8'));
  return compileSpec(reader, dirname(resolve(path)), options.now ?? new Date());
}

async function compileSpec(reader: SpecReader, baseDir: string, now: Date): Promise<Layout> {
  if (reader.problemCount > 0) throw new ValidationError(reader.sortedProblems());
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
  const roots = await loadRoots(reader, top.get('roots'), baseDir, rootEntries);
  const beforeTsas = reader.problemCount;
  const tsas = await loadRoots(reader, top.get('timestamp_authorities'), baseDir, timestampAuthorityEntries);
  const context: ItemContext = {
    keys,
    roots: new Map([...roots].map(([name, dicts]) => [name, dicts.map((d) => d.keyid as string)])),
    // a bundle already refused is one mistake: require_timestamps is not reported again for it
    timestampAuthorities: tsas.size > 0 || reader.problemCount > beforeTsas,
    rules: [],
    policyFiles: [],
  };
  const { steps, inspections } = compileItems(reader, top.get('steps'), top.get('inspections'), context);
  await checkRules(reader, context.rules);
  await hashPolicyFiles(reader, context.policyFiles, baseDir);
  if (reader.problemCount > 0) throw new ValidationError(reader.sortedProblems());

  const layout: Layout = {
    _type: 'layout',
    expires: expires as string,
    readme: readme as string,
    keys: Object.fromEntries([...keys.values()].map((key) => [key.keyid, layoutKeyDict(key)])),
    steps,
    inspect: inspections,
  };
  if (roots.size > 0) layout.rootcas = byKeyid(roots);
  if (tsas.size > 0) layout.timestampauthorities = byKeyid(tsas);
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

/**
 * Parses and type-checks every attestation rule (policy/compile-rule.ts) against the variables rules see,
 * reporting each bad one at its line: a layout is signed once and verified often, so a typo must not wait
 * for the first verification. CEL is loaded only for a spec that has rules.
 */
async function checkRules(reader: SpecReader, rules: readonly SpecRule[]): Promise<void> {
  if (rules.length === 0) return;
  const { compileRule } = await import('../policy/compile-rule.js');
  for (const { at, rule } of rules) {
    const result = compileRule(rule);
    if ('problem' in result) {
      reader.report(at, `the rule ${result.problem}${result.column !== undefined ? ` (column ${result.column} of the rule)` : ''}`);
    }
  }
}

/**
 * The sha256 of each layout a step's `vsa: {policy}` names by its file: what the VSA's `policy.digest` must
 * be (`evident verify --vsa` writes the sha256 of the layout file's bytes).
 */
async function hashPolicyFiles(reader: SpecReader, files: readonly SpecPolicyFile[], baseDir: string): Promise<void> {
  for (const { at, file, into, index } of files) {
    const bytes = await readSpecFile(
      reader,
      at,
      resolve(baseDir, file),
      file,
      DEFAULT_MAX_LINK_BYTES,
      `is larger than ${DEFAULT_MAX_LINK_BYTES} bytes`,
    );
    if (bytes !== undefined) into[index] = { sha256: createHash('sha256').update(bytes).digest('hex') };
  }
}

/**
 * A file the spec names, read as a regular file of at most `maxBytes`; or undefined, with the problem
 * reported at `at` (`FILE: <tooLarge>` past the limit, else why it cannot be read).
 */
async function readSpecFile(
  reader: SpecReader,
  at: At,
  path: string,
  file: string,
  maxBytes: number,
  tooLarge: string,
): Promise<Buffer | undefined> {
  let read;
  try {
    read = await readRegularFile(path, maxBytes);
  } catch (e) {
    reader.report(at, describeLoadError(e, file));
    return undefined;
  }
  if (read.kind === 'bytes') return read.bytes;
  reader.report(at, `${file}: ${read.kind === 'too-large' ? tooLarge : read.problem}`);
  return undefined;
}

/** The CA entries of every named bundle, by keyid (a certificate in two bundles is one entry). */
function byKeyid(bundles: Map<string, KeyDict[]>): Record<string, KeyDict> {
  return Object.fromEntries([...bundles.values()].flat().map((dict) => [dict.keyid as string, dict]));
}

/** `roots` or `timestamp_authorities`: name → PEM bundle file, each certificate turned into a CA entry by `entries`. */
async function loadRoots(
  reader: SpecReader,
  at: At | undefined,
  baseDir: string,
  entries: (pem: string) => KeyDict[] | string,
): Promise<Map<string, KeyDict[]>> {
  const out = new Map<string, KeyDict[]>();
  const named = at ? reader.map(at, [], 'name → PEM bundle file') : undefined;
  for (const [name, fileAt] of named ?? []) {
    const file = reader.string(fileAt, 'the path of a PEM certificate bundle');
    if (file === undefined) continue;
    const bytes = await readSpecFile(
      reader,
      fileAt,
      resolve(baseDir, file),
      file,
      MAX_ROOTS_BYTES,
      `is larger than ${MAX_ROOTS_BYTES} bytes, more than a certificate bundle has`,
    );
    if (bytes === undefined) continue;
    const result = entries(bytes.toString('utf8'));
    if (typeof result === 'string') reader.report(fileAt, `${file} ${result}`);
    else out.set(name, result);
  }
  return out;
}

function describeLoadError(e: unknown, file: string): string {
  if (isEvidentError(e)) return `${file}: ${e.message}`;
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `${file}: no such file (paths are relative to the spec)`;
  if (code === 'EACCES' || code === 'EPERM') return `${file}: permission denied`;
  // ENOTDIR, ELOOP, ENAMETOOLONG, EIO…: still a file the spec names, not a bug of ours
  if (typeof code === 'string') return `${file}: cannot be read (${code})`;
  throw e;
}
