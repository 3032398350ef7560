import { lstat, readdir, readlink } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';

/** The kernel's limit on symlinks followed while resolving one path (Linux MAXSYMLINKS). */
const MAX_LINKS = 40;

/** How a path left its root while being resolved. */
export type RootEscape = { kind: 'parent' } | { kind: 'absolute-link'; link: string; target: string } | { kind: 'loop' };

export interface ResolveInRootOptions {
  /**
   * What a symlink to an absolute path means: a path on this machine, fine while it names something under
   * the root (a delivered folder), or always an escape (an image's rootfs, whose `/` is not this machine's).
   */
  absoluteLinks: 'inside-root-only' | 'escape';
}

/**
 * Resolves the components `parts` under `root` the way the kernel would, following every symlink met on
 * the way, and says where that leads, or how it left the root (a `..` above it, a symlink out of it, or
 * more links than the kernel follows). A component that does not exist is taken as it is (a later `..`
 * pops it), which is what a command creating it would get. `root` must be a real path.
 */
export async function resolveInRoot(
  root: string,
  parts: readonly string[],
  options: ResolveInRootOptions,
): Promise<{ path: string } | { escape: RootEscape }> {
  let current: string[] = [];
  const queue = [...parts];
  let links = 0;
  while (queue.length > 0) {
    const c = queue.shift() as string;
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (current.length === 0) return { escape: { kind: 'parent' } };
      current.pop();
      continue;
    }
    const candidate = join(root, ...current, c);
    const info = await lstat(candidate).catch(() => undefined);
    if (!info?.isSymbolicLink()) {
      current.push(c);
      continue;
    }
    if (++links > MAX_LINKS) return { escape: { kind: 'loop' } };
    const target = await readlink(candidate);
    if (isAbsolute(target)) {
      const rel = relative(root, target);
      if (options.absoluteLinks === 'escape' || !isBelow(rel))
        return { escape: { kind: 'absolute-link', link: join(...current, c), target } };
      current = [];
      queue.unshift(...rel.split(sep));
    } else {
      queue.unshift(...target.split('/'));
    }
  }
  return { path: join(root, ...current) };
}

/** A path relative to a root names the root or something under it. */
export function isBelow(rel: string): boolean {
  return rel !== '..' && !rel.startsWith(`..${sep}`) && !rel.startsWith('../') && !isAbsolute(rel);
}

/** Every symlink under `root`, as path components relative to it; symlinked folders are not entered. */
export async function* symlinksUnder(root: string, dir: readonly string[] = []): AsyncGenerator<string[]> {
  for (const entry of await readdir(join(root, ...dir), { withFileTypes: true })) {
    if (entry.isSymbolicLink()) yield [...dir, entry.name];
    else if (entry.isDirectory()) yield* symlinksUnder(root, [...dir, entry.name]);
  }
}
