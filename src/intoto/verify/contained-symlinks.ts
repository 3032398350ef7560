import { lstat, readdir, readlink } from 'node:fs/promises';
import { isAbsolute, join, posix, relative, sep } from 'node:path';
import { EvidentError } from '../../errors.js';

/** The kernel's limit on symlinks followed while resolving one path (Linux MAXSYMLINKS). */
const MAX_LINKS = 40;

/**
 * Refuses a folder holding a symlink that leads out of it, so a command run in the folder cannot be
 * steered by the folder's contents into writing elsewhere (a delivered `rootfs -> /root/.ssh` would make
 * `image unpack … -o rootfs` write there). `root` must be a real path (no symlinks in it).
 *
 * Each symlink is checked twice: lexically (its target read as text against the link's own folder, the
 * rule a reader can check by eye) and physically, the way the kernel resolves it, component by component
 * through the links on the way: the lexical check alone passes `here -> .` with `x -> here/../outside`,
 * whose `here/..` is the root's parent on disk. Chains (`a -> b -> outside`) are caught at their last link.
 */
export async function refuseEscapingSymlinks(root: string, place: string): Promise<void> {
  for await (const link of symlinksUnder(root, [])) {
    const target = await readlink(join(root, ...link));
    if (!lexicallyInside(root, link, target) || !(await physicallyInside(root, link))) {
      throw new EvidentError('PATH_ESCAPE', `symlink '${link.join('/')}' -> '${target}' leads outside the ${place}; refusing to run in it`);
    }
  }
}

/** Every symlink under `root`, as path components relative to it; symlinked folders are not entered. */
async function* symlinksUnder(root: string, dir: string[]): AsyncGenerator<string[]> {
  for (const entry of await readdir(join(root, ...dir), { withFileTypes: true })) {
    if (entry.isSymbolicLink()) yield [...dir, entry.name];
    else if (entry.isDirectory()) yield* symlinksUnder(root, [...dir, entry.name]);
  }
}

/** The link's target, read as text against the link's folder (absolute targets as they are), is under `root`. */
function lexicallyInside(root: string, link: string[], target: string): boolean {
  const rel = isAbsolute(target) ? relative(root, target) : posix.normalize(posix.join(...link.slice(0, -1), target));
  return isBelow(rel);
}

/**
 * Resolves `parts` as the kernel would, following every symlink met on the way, and says whether the
 * walk stays under `root`. A component that does not exist is taken as it is (a later `..` then pops
 * it), which is what a command creating it would get. A loop stays where it is: the kernel gives ELOOP.
 */
async function physicallyInside(root: string, parts: readonly string[]): Promise<boolean> {
  let current: string[] = [];
  const queue = [...parts];
  let links = 0;
  while (queue.length > 0) {
    const c = queue.shift() as string;
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (current.length === 0) return false;
      current.pop();
      continue;
    }
    const info = await lstat(join(root, ...current, c)).catch(() => undefined);
    if (!info?.isSymbolicLink()) {
      current.push(c);
      continue;
    }
    if (++links > MAX_LINKS) return true;
    const target = await readlink(join(root, ...current, c));
    if (isAbsolute(target)) {
      const rel = relative(root, target);
      if (!isBelow(rel)) return false;
      current = [];
      queue.unshift(...rel.split(sep));
    } else {
      queue.unshift(...target.split('/'));
    }
  }
  return true;
}

/** A path relative to the root names the root or something under it. */
function isBelow(rel: string): boolean {
  return rel !== '..' && !rel.startsWith(`..${sep}`) && !rel.startsWith('../') && !isAbsolute(rel);
}
