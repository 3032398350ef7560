import { EvidentError } from '../errors.js';

/** Whiteout prefixes of the OCI layer format (image-spec layer.md), inherited from AUFS. */
export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_WHITEOUT = '.wh..wh..opq';

export type LayerChange =
  | { kind: 'entry'; parts: string[] }
  | { kind: 'whiteout'; parent: string[]; name: string }
  | { kind: 'opaque'; parent: string[] }
  | { kind: 'ignore' };

/**
 * Splits a layer entry's path into components, refusing what could land outside the root filesystem:
 * absolute paths and `..` components (image-spec: paths are relative to the root; tools that honour
 * them are the classic tar-slip). `./` and `.` components are dropped; the root itself is ignored.
 */
export function layerPathParts(path: string, where: string): string[] {
  if (path.startsWith('/')) throw new EvidentError('PATH_ESCAPE', `${where}: refusing absolute path '${path}' in a layer`);
  if (path.includes('\0')) throw new EvidentError('BAD_INPUT', `${where}: path contains a NUL byte`);
  const parts = path.split('/').filter((c) => c !== '' && c !== '.');
  if (parts.includes('..'))
    throw new EvidentError('PATH_ESCAPE', `${where}: refusing path '${path}': '..' would leave the root filesystem`);
  return parts;
}

export function classifyLayerPath(path: string, where: string): LayerChange {
  const parts = layerPathParts(path, where);
  if (parts.length === 0) return { kind: 'ignore' };
  const base = parts[parts.length - 1] as string;
  const parent = parts.slice(0, -1);
  if (base === OPAQUE_WHITEOUT) return { kind: 'opaque', parent };
  if (base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) return { kind: 'ignore' }; // AUFS metadata (.wh..wh.plnk and the like)
  if (base.startsWith(WHITEOUT_PREFIX)) {
    const name = base.slice(WHITEOUT_PREFIX.length);
    if (name === '' || name === '.' || name === '..') throw new EvidentError('PATH_ESCAPE', `${where}: malformed whiteout '${path}'`);
    return { kind: 'whiteout', parent, name };
  }
  return { kind: 'entry', parts };
}
