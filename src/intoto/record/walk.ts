import type { BigIntStats, Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { EvidentError } from '../../errors.js';
import type { ExcludeMatcher } from './excludes.js';
import { joinName, pyNormpath } from './normpath.js';
import { compareCodePoints } from '../../util/code-points.js';

/** A regular file to record: its artifact name (before lstrip) and where it is on disk. */
export interface FoundFile {
  name: string;
  fsPath: string;
}

export interface WalkOptions {
  /** Absolute directory relative names are resolved against. */
  base: string;
  exclude: ExcludeMatcher;
  followSymlinkDirs: boolean;
  warn: (message: string) => void;
  onFile: (file: FoundFile) => void;
}

/** A directory being walked, linked to the one it was entered from, to find symlink loops. */
interface DirNode {
  name: string;
  fsPath: string;
  parent: DirNode | undefined;
  id?: Promise<string>;
}

// Directories read at once: enough to keep the libuv threadpool busy, few enough to bound memory.
const PARALLEL_READDIRS = 8;

/**
 * Walks the given paths the way the reference's record_artifacts_as_dict does (os.walk top-down):
 * paths are normalized (Python normpath) and filtered by the excludes, sorted; a file (or a symlink to one)
 * is recorded under its own name; a directory is walked, excluded subdirectories are pruned, symlinked
 * subdirectories are followed only with followSymlinkDirs. Where the reference silently skips (a missing
 * path, a dangling symlink, an unreadable directory, a FIFO/socket/device) we skip with a warning, and a
 * symlink loop, which the reference would walk into until the kernel stops it, is an error.
 */
export async function walkArtifacts(paths: readonly string[], options: WalkOptions): Promise<void> {
  const names = [...new Set(paths.map(pyNormpath))].filter((n) => !options.exclude(n)).sort(compareCodePoints);
  const walker = new Walker(options);
  try {
    for (const name of names) await visitTop(name, options, walker);
  } catch (e) {
    // Stop the directories already being walked too: their results no longer matter.
    walker.abort(e);
  }
  await walker.done();
}

async function visitTop(name: string, options: WalkOptions, walker: Walker): Promise<void> {
  const fsPath = resolve(options.base, name);
  const st = await statOrWarn(fsPath, name, options.warn, { missing: 'does not exist', unreadable: 'cannot be read' });
  if (st === undefined) return;
  if (st.isFile()) options.onFile({ name, fsPath });
  else if (st.isDirectory()) walker.add({ name, fsPath, parent: undefined, id: Promise.resolve(`${st.dev}:${st.ino}`) });
  else options.warn(`${name}: ${specialKind(st)}, skipping`);
}

class Walker {
  private readonly queue: DirNode[] = [];
  private active = 0;
  private failure: unknown;
  private settle: { resolve: () => void; reject: (e: unknown) => void } | undefined;

  constructor(private readonly options: WalkOptions) {}

  add(dir: DirNode): void {
    this.queue.push(dir);
    this.pump();
  }

  abort(e: unknown): void {
    this.failure ??= e;
    this.queue.length = 0;
  }

  done(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.active === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => (this.settle = { resolve, reject }));
  }

  private pump(): void {
    while (this.failure === undefined && this.active < PARALLEL_READDIRS && this.queue.length > 0) {
      const dir = this.queue.pop()!;
      this.active++;
      this.visit(dir).then(
        () => this.finished(),
        (e: unknown) => {
          this.failure ??= e;
          this.finished();
        },
      );
    }
  }

  private finished(): void {
    this.active--;
    if (this.failure !== undefined) {
      this.queue.length = 0;
      if (this.active === 0) this.settle?.reject(this.failure);
      return;
    }
    this.pump();
    if (this.active === 0 && this.queue.length === 0) this.settle?.resolve();
  }

  private async visit(dir: DirNode): Promise<void> {
    const { exclude, warn, onFile, followSymlinkDirs } = this.options;
    let entries: Dirent[];
    try {
      entries = await readdir(dir.fsPath, { withFileTypes: true });
    } catch (e) {
      warn(`${dir.name}: cannot read directory (${(e as NodeJS.ErrnoException).code}), skipping`);
      return;
    }
    if (this.failure !== undefined) return;
    const fsDir = dir.fsPath.endsWith('/') ? dir.fsPath : `${dir.fsPath}/`;
    const excluded = exclude.inDir(dir.name);
    const subdirs: DirNode[] = [];
    const links: Promise<void>[] = [];
    for (const entry of entries) {
      const name = joinName(dir.name, entry.name);
      const fsPath = fsDir + entry.name;
      if (entry.isDirectory()) {
        if (!excluded(entry.name)) subdirs.push({ name, fsPath, parent: dir });
      } else if (entry.isFile()) {
        if (!excluded(entry.name)) onFile({ name, fsPath });
      } else if (entry.isSymbolicLink()) {
        // Excluded names are dropped unread, whatever they point to (even a loop).
        if (!excluded(entry.name)) links.push(this.visitLink(dir, name, fsPath, followSymlinkDirs, subdirs));
      } else if (!excluded(entry.name)) {
        warn(`${name}: ${direntKind(entry)}, skipping`);
      }
    }
    await Promise.all(links);
    if (this.failure !== undefined) return;
    for (const sub of subdirs) this.add(sub);
  }

  /** A symlink: what it points to decides, as os.walk's is_dir() and the reference's isfile() do. */
  private async visitLink(dir: DirNode, name: string, fsPath: string, follow: boolean, subdirs: DirNode[]): Promise<void> {
    const st = await statOrWarn(fsPath, name, this.options.warn, { missing: 'dangling symlink', unreadable: 'symlink cannot be resolved' });
    if (st === undefined) return;
    if (st.isFile()) {
      this.options.onFile({ name, fsPath });
    } else if (st.isDirectory()) {
      // Not followed: os.walk(followlinks=False) lists it but neither walks it nor records it.
      if (!follow) return;
      const id = `${st.dev}:${st.ino}`;
      for (let d: DirNode | undefined = dir; d !== undefined; d = d.parent) {
        if ((await nodeId(d)) === id) throw loopError(name, d.name);
      }
      subdirs.push({ name, fsPath, parent: dir, id: Promise.resolve(id) });
    } else {
      this.options.warn(`${name}: ${specialKind(st)}, skipping`);
    }
  }
}

/**
 * What `fsPath` is, following symlinks; undefined, with a warning, where the reference would silently skip
 * it (missing, dangling, unreadable). A loop is an error: the reference would walk into it.
 */
async function statOrWarn(
  fsPath: string,
  name: string,
  warn: (message: string) => void,
  say: { missing: string; unreadable: string },
): Promise<BigIntStats | undefined> {
  try {
    return await stat(fsPath, { bigint: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw loopError(name);
    warn(`${name}: ${code === 'ENOENT' || code === 'ENOTDIR' ? say.missing : `${say.unreadable} (${code})`}, skipping`);
    return undefined;
  }
}

function nodeId(d: DirNode): Promise<string> {
  d.id ??= stat(d.fsPath, { bigint: true }).then((s) => `${s.dev}:${s.ino}`);
  return d.id;
}

function loopError(name: string, target?: string): EvidentError {
  const where = target === undefined ? 'symlink loop' : `symlink loop: it leads back to '${target}'`;
  return new EvidentError('SYMLINK_LOOP', where, { file: name });
}

interface Kinded {
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}

function specialKind(st: Kinded): string {
  if (st.isFIFO()) return 'is a FIFO, not a regular file';
  if (st.isSocket()) return 'is a socket, not a regular file';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'is a device, not a regular file';
  return 'is not a regular file or directory';
}

function direntKind(entry: Dirent): string {
  return specialKind(entry);
}
