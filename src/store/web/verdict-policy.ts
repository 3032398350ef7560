import { basename } from 'node:path';
import { loadPublicKey } from '../../crypto/key-files.js';
import type { PublicKey } from '../../crypto/keys.js';
import { EvidentError } from '../../errors.js';
import { loadLayoutDocument } from '../../intoto/models/layout-file.js';
import type { VerdictPolicy } from './artifact-chain.js';

/**
 * The layout and owner keys whose verdict the pages show (`store serve --layout FILE --layout-key KEY…`),
 * read once at start: a layout that cannot be read, or no key, stops the store from starting.
 *
 * @throws EvidentError BAD_USAGE (a key without a layout, or a layout without keys), BAD_INPUT naming the file
 */
export async function loadVerdictPolicy(layoutFile: string | undefined, keyFiles: readonly string[]): Promise<VerdictPolicy | undefined> {
  if (layoutFile === undefined) {
    if (keyFiles.length > 0)
      throw new EvidentError('BAD_USAGE', 'store: --layout-key is for --layout: give the layout the pages verify against');
    return undefined;
  }
  if (keyFiles.length === 0)
    throw new EvidentError('BAD_USAGE', "store: --layout needs the layout owners' keys: --layout-key FILE (repeat for each)");
  // a metablock, or a DSSE envelope of the layout
  const { signed, document } = await loadLayoutDocument(layoutFile);
  const keys: PublicKey[] = [];
  // each error names its file (key-files.ts)
  for (const file of keyFiles) keys.push(await loadPublicKey(file));
  return { name: basename(layoutFile), layout: signed, document, keys };
}
