import { readFile } from 'node:fs/promises';
import { EvidentError } from '../errors.js';
import { sha256Hex } from './digest.js';
import type { ImageSpec } from './image-spec.js';
import { assembleImageLayout, type AssembledImage } from './layout-writer.js';
import { cmp, PACKAGE_DB_PATH, serializePackageDb, type PackageRecord } from './package-db.js';
import { writeTar, type TarEntry } from './tar.js';

export interface BuildOptions {
  /** SOURCE_DATE_EPOCH: entry times and the config's `created`; without it times are 0 and `created` is left out. */
  sourceDateEpoch?: number;
}

/** Reads SOURCE_DATE_EPOCH (reproducible-builds.org) from an environment; a malformed value is an error. */
export function sourceDateEpochFrom(env: NodeJS.ProcessEnv): number | undefined {
  const v = env.SOURCE_DATE_EPOCH;
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw new EvidentError('BAD_USAGE', `SOURCE_DATE_EPOCH must be a whole number of seconds, not '${v}'`);
  return Number(v);
}

/**
 * Builds the image an image spec describes: one layer with its files, its packages' files and the package
 * database, sorted with parent directories first; then the OCI layout around it. Reproducible: only the
 * spec, the files' bytes and SOURCE_DATE_EPOCH decide the output.
 */
export async function buildImage(spec: ImageSpec, options: BuildOptions = {}): Promise<AssembledImage> {
  const mtime = options.sourceDateEpoch ?? 0;
  const files = new Map<string, { data: Uint8Array; mode: number }>();
  const read = async (src: string) => {
    try {
      return await readFile(src);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new EvidentError('BAD_INPUT', `image spec: cannot read ${src}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
    }
  };
  for (const f of spec.files) files.set(f.dest, { data: await read(f.src), mode: f.mode });
  const records: PackageRecord[] = [];
  for (const p of spec.packages) {
    const pfiles = [];
    for (const f of p.files) {
      const data = await read(f.src);
      files.set(f.dest, { data, mode: f.mode });
      pfiles.push({ path: f.dest, sha256: sha256Hex(data) });
    }
    records.push({ name: p.name, version: p.version, purl: p.purl, files: pfiles });
  }
  if (files.has(PACKAGE_DB_PATH))
    throw new EvidentError('BAD_INPUT', `image spec: ${PACKAGE_DB_PATH} is the package database; no file may be written there`);
  files.set(PACKAGE_DB_PATH, { data: Buffer.from(serializePackageDb(records), 'utf8'), mode: 0o644 });
  const created =
    options.sourceDateEpoch === undefined ? undefined : new Date(options.sourceDateEpoch * 1000).toISOString().replace(/\.000Z$/, 'Z');
  const config: Parameters<typeof assembleImageLayout>[0]['config'] = {
    ...(created === undefined ? {} : { created }),
    architecture: spec.architecture,
    os: spec.os,
    config: {
      ...(spec.env.length > 0 ? { Env: spec.env } : {}),
      ...(spec.entrypoint.length > 0 ? { Entrypoint: spec.entrypoint } : {}),
      ...(spec.cmd.length > 0 ? { Cmd: spec.cmd } : {}),
      ...(spec.workingDir !== '' ? { WorkingDir: spec.workingDir } : {}),
      ...(Object.keys(spec.labels).length > 0 ? { Labels: sortedRecord(spec.labels) } : {}),
    },
    history: [{ ...(created === undefined ? {} : { created }), created_by: 'evident image build' }],
  };
  return assembleImageLayout({ layers: [layerTar(files, mtime)], config, name: spec.name, tag: spec.tag, mtime });
}

/** A layer tarball of the given files (absolute image paths) with every parent directory, sorted. */
export function layerTar(files: Map<string, { data: Uint8Array; mode: number }>, mtime = 0): Buffer {
  const dirs = new Set<string>();
  for (const path of files.keys()) {
    const parts = path.slice(1).split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  const entries: TarEntry[] = [
    ...[...dirs].map((d): TarEntry => ({ path: `${d}/`, type: 'directory', mode: 0o755, mtime })),
    ...[...files].map(([p, f]): TarEntry => ({ path: p.slice(1), type: 'file', mode: f.mode, mtime, data: f.data })),
  ];
  // sorted by path with '/' ordering first so that a directory precedes everything inside it
  entries.sort((a, b) => cmp(a.path.replace(/\/$/, '').replaceAll('/', '\0'), b.path.replace(/\/$/, '').replaceAll('/', '\0')));
  return writeTar(entries);
}

function sortedRecord(r: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => cmp(a, b)));
}
