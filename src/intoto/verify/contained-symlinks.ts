import { readlink } from 'node:fs/promises';
import { isAbsolute, join, posix, relative } from 'node:path';
import { EvidentError } from '../../errors.js';
import { isBelow, resolveInRoot, symlinksUnder } from '../../util/resolve-in-root.js';

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
  for await (const link of symlinksUnder(root)) {
    const target = await readlink(join(root, ...link));
    if (!lexicallyInside(root, link, target) || !(await physicallyInside(root, link))) {
      throw new EvidentError('PATH_ESCAPE', `symlink '${link.join('/')}' -> '${target}' leads outside the ${place}; refusing to run in it`);
    }
  }
}

/** The link's target, read as text against the link's folder (absolute targets as they are), is under `root`. */
function lexicallyInside(root: string, link: string[], target: string): boolean {
  const rel = isAbsolute(target) ? relative(root, target) : posix.normalize(posix.join(...link.slice(0, -1), target));
  return isBelow(rel);
}

/** Resolved as the kernel would (through every link on the way), the path stays under `root`; a loop stays where it is (ELOOP). */
async function physicallyInside(root: string, parts: readonly string[]): Promise<boolean> {
  const resolved = await resolveInRoot(root, parts, { absoluteLinks: 'inside-root-only' });
  return !('escape' in resolved) || resolved.escape.kind === 'loop';
}
