/**
 * Python's posixpath.normpath, which the reference applies to every artifact path. Node's
 * path.posix.normalize differs: it keeps a trailing slash, collapses a leading `//` and turns '' into '.'
 * only sometimes; artifact names must be byte-identical to the reference's, so this is ours.
 */
export function pyNormpath(path: string): string {
  if (path === '') return '.';
  // POSIX allows a leading `//` to mean something implementation-defined, so Python keeps exactly two.
  let initial = 0;
  if (path.startsWith('/')) initial = path.startsWith('//') && !path.startsWith('///') ? 2 : 1;
  const out: string[] = [];
  for (const comp of path.split('/')) {
    if (comp === '' || comp === '.') continue;
    if (comp !== '..' || (initial === 0 && out.length === 0) || (out.length > 0 && out[out.length - 1] === '..')) {
      out.push(comp);
    } else if (out.length > 0) {
      out.pop();
    }
  }
  const joined = '/'.repeat(initial) + out.join('/');
  return joined === '' ? '.' : joined;
}

/** normpath(join(dir, name)) for a normalized `dir` and a plain directory entry `name` (no `/`, not `.`/`..`). */
export function joinName(dir: string, name: string): string {
  if (dir === '.') return name;
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}
