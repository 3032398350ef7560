import { chmod, link, lstat, mkdir, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { EvidentError } from '../errors.js';
import { resolveInRoot as followInRoot, symlinksUnder } from '../util/resolve-in-root.js';
import { classifyLayerPath, layerPathParts } from './layer-paths.js';
import { readTar, type TarEntry } from './tar.js';

export interface UnpackStats {
  files: number;
  directories: number;
  symlinks: number;
  hardlinks: number;
  whiteouts: number;
  /** Device files and FIFOs: never created by an unprivileged unpack. */
  skipped: string[];
}

/**
 * Writes the root filesystem of an image into `dir`, applying the layers in order (OCI image-spec
 * layer.md): whiteouts first (they hide only lower layers' content), then the layer's entries.
 * Nothing is ever written outside `dir`: absolute and `..` paths are refused, parent paths are resolved
 * through symlinks inside `dir` only, symlinks whose target is absolute or resolves outside `dir` are
 * refused, and once every layer is applied each symlink is checked again (a later layer can change what
 * an earlier link resolves through). `dir` must be new or empty. Owners are not applied; set-id bits
 * are dropped.
 */
export async function unpackLayers(layers: readonly Uint8Array[], dir: string): Promise<UnpackStats> {
  const root = resolve(dir);
  await refuseSymlinkedOutput(root, dir);
  await mkdir(root, { recursive: true });
  // The image's whiteouts and files act on whatever the folder holds: `-o ~` would let an image delete
  // or replace the user's own files. Only a new or empty folder is unpacked into.
  if ((await readdir(root)).length > 0)
    throw new EvidentError('BAD_INPUT', `output folder ${dir} is not empty; unpack into a new or empty folder`);
  const stats: UnpackStats = { files: 0, directories: 0, symlinks: 0, hardlinks: 0, whiteouts: 0, skipped: [] };
  for (const [i, layer] of layers.entries()) {
    const where = `layer ${i}`;
    const entries = readTar(layer, where);
    for (const e of entries) {
      const c = classifyLayerPath(e.path, `${where}: ${e.path}`);
      if (c.kind === 'opaque') {
        const parent = await resolveInRoot(root, c.parent, `${where}: ${e.path}`);
        for (const child of await readdir(parent).catch(() => [])) await rm(join(parent, child), { recursive: true, force: true });
        stats.whiteouts++;
      } else if (c.kind === 'whiteout') {
        const parent = await resolveInRoot(root, c.parent, `${where}: ${e.path}`);
        await rm(join(parent, c.name), { recursive: true, force: true });
        stats.whiteouts++;
      }
    }
    for (const e of entries) {
      const c = classifyLayerPath(e.path, `${where}: ${e.path}`);
      if (c.kind === 'entry') await applyEntry(root, c.parts, e, `${where}: ${e.path}`, stats);
    }
  }
  await recheckSymlinks(root);
  return stats;
}

/**
 * The output folder itself must not be a symlink: every check below keeps writes inside `root`, and a
 * symlinked `root` (a delivered `rootfs -> /root`) would put all of them somewhere else. Dangling ones too:
 * mkdir would create their target.
 */
async function refuseSymlinkedOutput(root: string, dir: string): Promise<void> {
  if ((await lstat(root).catch(() => undefined))?.isSymbolicLink()) {
    throw new EvidentError('BAD_INPUT', `output folder ${dir} is a symlink; unpack into a real folder (or name the folder it points to)`);
  }
}

async function applyEntry(root: string, parts: string[], e: TarEntry, where: string, stats: UnpackStats): Promise<void> {
  const parent = await resolveInRoot(root, parts.slice(0, -1), where);
  await mkdir(parent, { recursive: true, mode: 0o755 });
  const target = join(parent, parts[parts.length - 1] as string);
  const existing = await lstat(target).catch(() => undefined);
  const mode = e.mode & 0o777;
  if (e.type === 'directory') {
    if (existing && !existing.isDirectory()) await rm(target, { recursive: true, force: true });
    if (!existing?.isDirectory()) await mkdir(target, { mode: 0o700 });
    await chmod(target, mode | 0o700); // keep it writable for the layers that follow
    stats.directories++;
    return;
  }
  if (e.type === 'other') {
    stats.skipped.push(parts.join('/'));
    return;
  }
  if (existing) await rm(target, { recursive: true, force: true });
  if (e.type === 'file') {
    // 'wx' is O_CREAT|O_EXCL: it fails on anything at `target`, a symlink included, so never writes through one
    await writeFile(target, e.data ?? new Uint8Array(), { flag: 'wx', mode });
    await chmod(target, mode);
    stats.files++;
  } else if (e.type === 'symlink') {
    const linkname = e.linkname ?? '';
    if (linkname.startsWith('/'))
      throw new EvidentError(
        'PATH_ESCAPE',
        `${where}: refusing symlink to absolute path '${linkname}' (it would point outside the unpacked root)`,
      );
    const from = relative(root, parent)
      .split(sep)
      .filter((c) => c !== '');
    await resolveInRoot(root, [...from, ...linkname.split('/')], `${where} -> ${linkname}`);
    await symlink(linkname, target);
    stats.symlinks++;
  } else {
    const source = layerPathParts(e.linkname ?? '', where);
    const sourceParent = await resolveInRoot(root, source.slice(0, -1), where);
    const sourcePath = join(sourceParent, source[source.length - 1] ?? '');
    const st = await lstat(sourcePath).catch(() => undefined);
    if (!st?.isFile())
      throw new EvidentError('BAD_INPUT', `${where}: hardlink target '${String(e.linkname)}' is not a file unpacked earlier`);
    await link(sourcePath, target);
    stats.hardlinks++;
  }
}

/**
 * The physical path, inside `root`, of the components `parts`, following symlinks the way the kernel
 * would but never above `root`: a `..` at the root, or a symlink to an absolute path (the image's `/`,
 * not this machine's), is an escape. Components that do not exist yet are taken as they are.
 */
export async function resolveInRoot(root: string, parts: readonly string[], where: string): Promise<string> {
  const resolved = await followInRoot(root, parts, { absoluteLinks: 'escape' });
  if ('path' in resolved) return resolved.path;
  const escape = resolved.escape;
  if (escape.kind === 'loop') throw new EvidentError('SYMLINK_LOOP', `${where}: too many levels of symbolic links`);
  if (escape.kind === 'absolute-link') {
    throw new EvidentError('PATH_ESCAPE', `${where}: refusing to follow symlink ${escape.link} to absolute path '${escape.target}'`);
  }
  throw new EvidentError('PATH_ESCAPE', `${where}: refusing a path that resolves outside the unpacked root`);
}

/** Every symlink, once all layers are applied: a later layer may have made an earlier link lead out. */
async function recheckSymlinks(root: string): Promise<void> {
  for await (const link of symlinksUnder(root)) {
    try {
      await resolveInRoot(root, link, link.join('/'));
    } catch (e) {
      await rm(join(root, ...link), { force: true });
      throw e;
    }
  }
}
