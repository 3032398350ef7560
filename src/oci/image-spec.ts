import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { EvidentError } from '../errors.js';

/**
 * The image description `evident image build --config image.yaml` reads. Parsed with YAML's failsafe
 * schema (every scalar is a string) so that `mode: 0755` is octal as a reader means it and a version like
 * `1.10` is never turned into the number 1.1; each field is then converted here.
 */
export interface ImageFileSpec {
  /** Absolute path of the source file on the build machine. */
  src: string;
  /** Absolute path inside the image. */
  dest: string;
  mode: number;
}

export interface ImagePackageSpec {
  name: string;
  version: string;
  purl: string;
  files: ImageFileSpec[];
}

export interface ImageSpec {
  name: string;
  tag: string;
  architecture: string;
  os: string;
  entrypoint: string[];
  cmd: string[];
  env: string[];
  workingDir: string;
  labels: Record<string, string>;
  files: ImageFileSpec[];
  packages: ImagePackageSpec[];
}

type Raw = Record<string, unknown>;

const TOP_FIELDS = ['name', 'tag', 'architecture', 'os', 'entrypoint', 'cmd', 'env', 'workingDir', 'labels', 'files', 'packages'];

export async function loadImageSpec(file: string, displayName = file): Promise<ImageSpec> {
  const text = await readFile(file, 'utf8');
  return parseImageSpec(text, dirname(resolve(file)), displayName);
}

export function parseImageSpec(text: string, baseDir: string, file?: string): ImageSpec {
  const problems: string[] = [];
  const bad = (where: string, msg: string) => problems.push(`${where}: ${msg}`);
  let doc: unknown;
  try {
    doc = parse(text, { schema: 'failsafe' });
  } catch (e) {
    throw new EvidentError('BAD_INPUT', `image spec: malformed YAML: ${(e as Error).message.split('\n')[0]}`, { file });
  }
  if (!isMap(doc)) throw new EvidentError('BAD_INPUT', 'image spec: the document must be a mapping', { file });
  for (const k of Object.keys(doc)) if (!TOP_FIELDS.includes(k)) bad(k, `unknown field (expected one of: ${TOP_FIELDS.join(', ')})`);
  const str = (v: unknown, where: string, dflt?: string): string => {
    if (v === undefined && dflt !== undefined) return dflt;
    if (typeof v !== 'string' || v === '') {
      bad(where, 'must be a non-empty string');
      return '';
    }
    return v;
  };
  const list = (v: unknown, where: string): string[] => {
    if (v === undefined) return [];
    if (typeof v === 'string') return [v];
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    bad(where, 'must be a string or a list of strings');
    return [];
  };
  const name = str(doc.name, 'name');
  if (name !== '' && !/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(name)) {
    bad('name', `'${name}' is not an image name (lowercase letters, digits, separators . _ - and /)`);
  }
  const tag = str(doc.tag, 'tag', 'latest');
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(tag)) bad('tag', `'${tag}' is not a tag`);
  let env: string[] = [];
  if (isMap(doc.env)) env = Object.entries(doc.env).map(([k, v]) => `${k}=${typeof v === 'string' ? v : ''}`);
  else env = list(doc.env, 'env');
  for (const [i, e] of env.entries()) if (!/^[^=]+=/.test(e)) bad(`env[${i}]`, `'${e}' is not NAME=VALUE`);
  const labels: Record<string, string> = {};
  if (doc.labels !== undefined) {
    if (!isMap(doc.labels)) bad('labels', 'must be a mapping');
    else for (const [k, v] of Object.entries(doc.labels)) labels[k] = str(v, `labels.${k}`);
  }
  const files = fileList(doc.files, 'files', baseDir, bad);
  const packages: ImagePackageSpec[] = [];
  if (doc.packages !== undefined && !Array.isArray(doc.packages)) bad('packages', 'must be a list');
  for (const [i, p] of (Array.isArray(doc.packages) ? doc.packages : []).entries()) {
    const where = `packages[${i}]`;
    if (!isMap(p)) {
      bad(where, 'must be a mapping');
      continue;
    }
    for (const k of Object.keys(p))
      if (!['name', 'version', 'purl', 'files'].includes(k))
        bad(`${where}.${k}`, 'unknown field (expected one of: name, version, purl, files)');
    const pname = str(p.name, `${where}.name`);
    const version = str(p.version, `${where}.version`);
    const purl =
      p.purl === undefined ? `pkg:generic/${encodeURIComponent(pname)}@${encodeURIComponent(version)}` : str(p.purl, `${where}.purl`);
    if (!purl.startsWith('pkg:')) bad(`${where}.purl`, `'${purl}' is not a package URL (pkg:type/name@version)`);
    packages.push({ name: pname, version, purl, files: fileList(p.files, `${where}.files`, baseDir, bad) });
  }
  const dests = new Map<string, string>();
  const all = [
    ...files.map((f, i) => [`files[${i}]`, f] as const),
    ...packages.flatMap((p, j) => p.files.map((f, i) => [`packages[${j}].files[${i}]`, f] as const)),
  ];
  for (const [where, f] of all) {
    const prior = dests.get(f.dest);
    if (prior !== undefined) bad(`${where}.dest`, `${f.dest} is already the destination of ${prior}`);
    dests.set(f.dest, where);
  }
  const workingDir = doc.workingDir === undefined ? '' : str(doc.workingDir, 'workingDir');
  if (problems.length > 0) throw new EvidentError('BAD_INPUT', problems.map((p) => `image spec: ${p}`).join('\n'), { file });
  return {
    name,
    tag,
    architecture: str(doc.architecture, 'architecture', 'amd64'),
    os: str(doc.os, 'os', 'linux'),
    entrypoint: list(doc.entrypoint, 'entrypoint'),
    cmd: list(doc.cmd, 'cmd'),
    env,
    workingDir,
    labels,
    files,
    packages,
  };
}

function fileList(value: unknown, where: string, baseDir: string, bad: (where: string, msg: string) => void): ImageFileSpec[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    bad(where, 'must be a list');
    return [];
  }
  const out: ImageFileSpec[] = [];
  for (const [i, f] of value.entries()) {
    const w = `${where}[${i}]`;
    if (!isMap(f)) {
      bad(w, 'must be a mapping {src, dest, mode}');
      continue;
    }
    for (const k of Object.keys(f))
      if (!['src', 'dest', 'mode'].includes(k)) bad(`${w}.${k}`, 'unknown field (expected one of: src, dest, mode)');
    if (typeof f.src !== 'string' || f.src === '') bad(`${w}.src`, 'must be a file path');
    const dest = typeof f.dest === 'string' ? f.dest : '';
    if (!isImagePath(dest)) bad(`${w}.dest`, `'${dest}' must be an absolute path inside the image without '.', '..' or '//'`);
    let mode = 0o644;
    if (f.mode !== undefined) {
      const m = typeof f.mode === 'string' ? /^(?:0o?)?([0-7]{1,4})$/.exec(f.mode) : null;
      if (!m) bad(`${w}.mode`, `'${String(f.mode)}' is not an octal mode such as 0755`);
      else mode = parseInt(m[1] as string, 8);
    }
    out.push({ src: resolve(baseDir, typeof f.src === 'string' ? f.src : ''), dest, mode });
  }
  return out;
}

export function isImagePath(p: string): boolean {
  if (!p.startsWith('/') || p === '/' || p.endsWith('/')) return false;
  return p
    .slice(1)
    .split('/')
    .every((c) => c !== '' && c !== '.' && c !== '..' && !c.includes('\0'));
}

function isMap(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
