import { resolve } from 'node:path';
import { stat } from 'node:fs/promises';
import { EvidentError, badInput } from '../../errors.js';
import { artifactNameProblem } from '../models/artifact-name.js';
import { setOwnEntry } from '../../util/own-entry.js';
import { DEFAULT_EXCLUDE_PATTERNS, compileExcludes } from './excludes.js';
import { isSupportedAlgorithm } from './hash-file.js';
import { HashDispatcher } from './hash-dispatch.js';
import { checkLstripPaths, lstripName } from './lstrip.js';
import type { ArtifactMap, CollectOptions, HashDict } from './types.js';
import { walkArtifacts, type FoundFile } from './walk.js';
import { compareCodePoints } from '../../util/code-points.js';

/** Internal knob for the benchmark: where the hashing runs. */
export interface CollectTuning {
  hashIn?: 'workers' | 'main';
}

/**
 * Records the files under `paths` as the reference's record_artifacts_as_dict does (see walk.ts for the
 * naming rules), hashing them on all cores.
 *
 * @example
 * const materials = await collectArtifacts(['src', 'package.json'], { excludePatterns: ['*.o'] });
 * // { 'package.json': { sha256: '…' }, 'src/main.ts': { sha256: '…' } }
 */
export async function collectArtifacts(paths: string[], options: CollectOptions & CollectTuning = {}): Promise<ArtifactMap> {
  if (paths.length === 0) return {};
  const algorithms = options.hashAlgorithms?.length ? [...options.hashAlgorithms] : ['sha256'];
  for (const a of algorithms) {
    if (!isSupportedAlgorithm(a)) throw new EvidentError('UNSUPPORTED', `hash algorithm '${a}' is not supported`);
  }
  const base = resolve(options.basePath ?? process.cwd());
  await checkBase(base, options.basePath);
  const exclude = compileExcludes(options.excludePatterns?.length ? options.excludePatterns : DEFAULT_EXCLUDE_PATTERNS);
  const lstrip = options.lstripPaths ?? [];
  checkLstripPaths(lstrip);
  const warn = options.onWarning ?? (() => undefined);

  const dispatcher = new HashDispatcher({
    algorithms,
    normalizeLineEndings: options.normalizeLineEndings ?? false,
    concurrency: options.concurrency,
    hashIn: options.hashIn ?? 'workers',
    onProgress: options.onProgress,
  });
  // Artifact key → index of its file in the dispatcher (and in `files`): one Map for dedupe, collisions
  // and the final lookup, which matters on 100 000-file trees.
  const indexByKey = new Map<string, number>();
  const files: FoundFile[] = [];
  await walkArtifacts(paths, {
    base,
    exclude,
    followSymlinkDirs: options.followSymlinkDirs ?? false,
    warn,
    onFile(file) {
      const key = lstripName(file.name, lstrip);
      const problem = artifactNameProblem(key);
      if (problem !== undefined) throw badName(file.name, problem);
      const prev = indexByKey.get(key);
      if (prev !== undefined) {
        // The same path reached twice (`-m src src/a.c`) is the same file; two paths under one name never are.
        if (files[prev]!.fsPath === file.fsPath) return;
        throw collision(files[prev]!.name, file.name, key, lstrip);
      }
      indexByKey.set(key, dispatcher.add(file.fsPath));
      files.push(file);
    },
  });
  const results = await dispatcher.finish();

  const sorted: string[] = [];
  for (const [key, i] of indexByKey) {
    const r = results[i]!;
    if ('ok' in r) sorted.push(key);
    else if ('skip' in r) warn(`${files[i]!.name}: ${r.skip}, skipping`);
    else if ('defer' in r) throw new EvidentError('INTERNAL', 'a deferred file was never hashed', { file: files[i]!.name });
    else if (r.code === 'ELOOP') throw new EvidentError('SYMLINK_LOOP', r.error, { file: files[i]!.name });
    else throw badInput(`cannot read: ${r.error}`, files[i]!.name);
  }
  // Python sorts by code point; JS's default sort (UTF-16 units) agrees unless a name has a character
  // from U+D800 up, and it is several times faster than a comparator on big trees.
  if (sorted.some((k) => BEYOND_SURROGATES.test(k))) sorted.sort(compareCodePoints);
  else sorted.sort();
  const map: ArtifactMap = {};
  for (const key of sorted) setOwnEntry(map, key, (results[indexByKey.get(key)!] as { ok: HashDict }).ok);
  return map;
}

const BEYOND_SURROGATES = /[\uD800-\uFFFF]/;

function collision(first: string, second: string, key: string, lstrip: readonly string[]): EvidentError {
  const prefixes = lstrip.map((p) => `'${p}'`).join(', ');
  const how = lstrip.length > 0 ? ` after stripping ${prefixes}` : '';
  return new EvidentError('ARTIFACT_COLLISION', `'${first}' and '${second}' would both be recorded as '${key}'${how}`);
}

function badName(file: string, problem: string): EvidentError {
  return new EvidentError('ARTIFACT_NAME', `cannot be recorded: ${problem} (exclude it, or rename it)`, { file });
}

async function checkBase(base: string, given: string | undefined): Promise<void> {
  try {
    if ((await stat(base)).isDirectory()) return;
  } catch {
    // reported below, as the reference reports a failed chdir
  }
  throw badInput(`cannot use '${given ?? base}' as base path: not a directory`);
}
