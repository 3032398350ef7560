import { EvidentError } from '../../errors.js';
import { loadMetadataFile } from './metablock.js';
import type { Layout, Metablock } from './types.js';

/** A layout is policy, not evidence: anything this big is not one. */
export const MAX_LAYOUT_BYTES = 64 * 1024 * 1024;

/**
 * Reads a signed layout file (a metablock whose `signed._type` is `layout`), as strictly as links are
 * read. Its signatures are not checked here: that is verification's first step, with the owners' keys.
 *
 * @throws EvidentError BAD_INPUT naming `displayName` (default: the path) for anything but a layout; TOO_LARGE
 */
export async function loadLayoutFile(path: string, displayName = path): Promise<Metablock<Layout>> {
  const loaded = await loadMetadataFile(path, { maxBytes: MAX_LAYOUT_BYTES, displayName });
  if (loaded.format !== 'metablock' || loaded.metablock.signed._type !== 'layout') {
    throw new EvidentError('BAD_INPUT', 'this is not a layout (signed._type must be "layout")', { file: displayName });
  }
  return loaded.metablock as Metablock<Layout>;
}
