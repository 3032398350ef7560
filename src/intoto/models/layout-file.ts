import { EvidentError } from '../../errors.js';
import type { DsseEnvelope } from '../../crypto/dsse.js';
import { readRegularFile } from '../../util/regular-file.js';
import { parseStrictJson } from '../../util/strict-json.js';
import { loadMetadataFile, parseAnyMetadata } from './metablock.js';
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

/**
 * As loadLayoutFile, also reading a DSSE envelope whose payload is the layout (in-toto-golang and Python
 * in-toto 2.x). `document` is the file as parsed, for verify() to check its signatures; `signed` the layout.
 *
 * @throws EvidentError BAD_INPUT naming `displayName` for anything but a layout; TOO_LARGE
 */
export async function loadLayoutDocument(
  path: string,
  displayName = path,
): Promise<{ signed: Layout; document: Metablock<Layout> | DsseEnvelope }> {
  const read = await readRegularFile(path, MAX_LAYOUT_BYTES);
  if (read.kind === 'not-regular') throw new EvidentError('BAD_INPUT', read.problem, { file: displayName });
  if (read.kind === 'too-large')
    throw new EvidentError('TOO_LARGE', `is ${read.size} bytes, more than the ${MAX_LAYOUT_BYTES} bytes a layout may have`, {
      file: displayName,
    });
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(read.bytes);
  } catch {
    throw new EvidentError('BAD_INPUT', 'is not valid UTF-8', { file: displayName });
  }
  const parsed = parseAnyMetadata(parseStrictJson(text, displayName), displayName);
  if (parsed.format === 'dsse') {
    if (!('layout' in parsed))
      throw new EvidentError('BAD_INPUT', 'this is a DSSE envelope of a link, not of a layout', { file: displayName });
    return { signed: parsed.layout, document: parsed.envelope };
  }
  if (parsed.metablock.signed._type !== 'layout') {
    throw new EvidentError('BAD_INPUT', 'this is not a layout (signed._type must be "layout")', { file: displayName });
  }
  return { signed: parsed.metablock.signed, document: parsed.metablock as Metablock<Layout> };
}
