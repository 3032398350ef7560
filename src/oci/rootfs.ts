import { EvidentError } from '../errors.js';
import { classifyLayerPath, layerPathParts } from './layer-paths.js';
import { readTar, type TarEntry } from './tar.js';

export interface RootfsNode {
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  data?: Uint8Array;
  linkname?: string;
}

/**
 * The image's root filesystem in memory, layers applied in order: `/`-free relative paths to nodes.
 * Used to read an image (its package database, its executables) without writing it to disk. Follows the
 * same whiteout rules as unpacking: a layer's whiteouts hide only what lower layers put there.
 */
export function flattenLayers(layers: readonly Uint8Array[]): Map<string, RootfsNode> {
  const fs = new Map<string, RootfsNode>();
  const removeTree = (prefix: string, keepSelf: boolean) => {
    if (!keepSelf) {
      const node = fs.get(prefix);
      fs.delete(prefix);
      // a file or link has nothing below it; an absent node may still be a folder only implied by its entries
      if (node !== undefined && node.type !== 'directory') return;
    }
    for (const p of [...fs.keys()]) if (prefix === '' || p.startsWith(`${prefix}/`)) fs.delete(p);
  };
  layers.forEach((layer, i) => {
    const where = `layer ${i}`;
    const entries: TarEntry[] = readTar(layer, where);
    for (const e of entries) {
      const c = classifyLayerPath(e.path, `${where}: ${e.path}`);
      if (c.kind === 'opaque') removeTree(c.parent.join('/'), true);
      else if (c.kind === 'whiteout') removeTree([...c.parent, c.name].join('/'), false);
    }
    for (const e of entries) {
      const c = classifyLayerPath(e.path, `${where}: ${e.path}`);
      if (c.kind !== 'entry') continue;
      const path = c.parts.join('/');
      if (e.type === 'directory') {
        if (fs.get(path)?.type !== 'directory') removeTree(path, false);
        fs.set(path, { type: 'directory', mode: e.mode });
      } else if (e.type === 'file') {
        removeTree(path, false);
        fs.set(path, { type: 'file', mode: e.mode, data: e.data ?? new Uint8Array() });
      } else if (e.type === 'symlink') {
        removeTree(path, false);
        fs.set(path, { type: 'symlink', mode: e.mode, linkname: e.linkname ?? '' });
      } else if (e.type === 'hardlink') {
        const target = fs.get(layerPathParts(e.linkname ?? '', `${where}: ${e.path}`).join('/'));
        if (target?.type !== 'file')
          throw new EvidentError(
            'BAD_INPUT',
            `${where}: hardlink ${e.path} points to '${String(e.linkname)}', which is not a file of the image`,
          );
        removeTree(path, false);
        fs.set(path, { ...target });
      }
    }
  });
  return fs;
}
